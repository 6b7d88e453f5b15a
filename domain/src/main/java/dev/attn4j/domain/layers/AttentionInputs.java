package dev.attn4j.domain.layers;

import dev.attn4j.ports.tensor.DeviceTensor;

/**
 * What every attention layer of one pass shares, made once per pass by the model: the masks, the rotary tables,
 * the position bias, and for cross-attention the context. Tensors not used by a model are {@code null}.
 *
 * <pre>{@code
 * var in = AttentionInputs.self(selfMask, true, keepRows, cos, sin, qScale, kScale, alibi);
 * }</pre>
 *
 * @param flashMask  FlashMask row indices of the self-attention (causal and padding or documents), or {@code null}
 * @param causal     whether self-attention is causal (bottom-right aligned)
 * @param keepRows   F32 {@code [B·S]} 1/0 per query row: rows of padding are zeroed after the output projection
 *                   (x-transformers' rule), or {@code null} without padding
 * @param cos        rotary cos table {@code [S, R/2]}, or {@code null}
 * @param sin        rotary sin table {@code [S, R/2]}
 * @param queryScale xPos scales for queries {@code [S, R/2]}, or {@code null}
 * @param keyScale   xPos scales for keys {@code [S, R/2]}
 * @param alibi      ALiBi slopes {@code [H]} (in attn4j's head order), or {@code null}
 * @param biasTable  relative-position table {@code [H, Sq + Sk − 1]} for self-attention, or {@code null}
 * @param context    cross-attention keys/values source {@code [B, Sk, D]}, or {@code null}
 * @param contextMask FlashMask of cross-attention (padding of the context), or {@code null}
 * @param biasTableGrad accumulator of the bias table's gradient over the layers sharing it (backward), or {@code null}
 * @param contextGrad accumulator of the context's gradient over the cross-attention layers (backward), or {@code null}
 */
public record AttentionInputs(DeviceTensor flashMask, boolean causal, DeviceTensor keepRows, DeviceTensor cos,
                              DeviceTensor sin, DeviceTensor queryScale, DeviceTensor keyScale, DeviceTensor alibi,
                              DeviceTensor biasTable, DeviceTensor context, DeviceTensor contextMask,
                              DeviceTensor biasTableGrad, DeviceTensor contextGrad) {

    /**
     * Self-attention inputs only: no bias table, no context, no accumulators.
     *
     * @param flashMask FlashMask row indices of the self-attention, or {@code null}
     * @param causal whether self-attention is causal (bottom-right aligned)
     * @param keepRows F32 {@code [B·S]} 1/0 per query row (padding rows are zeroed), or {@code null}
     * @param cos rotary cos table {@code [S, R/2]}, or {@code null}
     * @param sin rotary sin table {@code [S, R/2]}, or {@code null}
     * @param queryScale xPos scales for queries {@code [S, R/2]}, or {@code null}
     * @param keyScale xPos scales for keys {@code [S, R/2]}, or {@code null}
     * @param alibi ALiBi slopes {@code [H]} in attn4j's head order, or {@code null}
     * @return the inputs, with the bias table, context and accumulators {@code null}
     */
    public static AttentionInputs self(DeviceTensor flashMask, boolean causal, DeviceTensor keepRows, DeviceTensor cos,
                                       DeviceTensor sin, DeviceTensor queryScale, DeviceTensor keyScale, DeviceTensor alibi) {
        return new AttentionInputs(flashMask, causal, keepRows, cos, sin, queryScale, keyScale, alibi, null, null, null,
                null, null);
    }

    /**
     * These inputs with a self-attention bias table and (for backward) its gradient accumulator.
     *
     * @param table relative-position bias table {@code [H, Sq + Sk − 1]}
     * @param tableGrad its gradient accumulator (summed over the layers sharing the table), or {@code null} for
     *                  inference
     * @return a copy of these inputs with the table set
     */
    public AttentionInputs withBiasTable(DeviceTensor table, DeviceTensor tableGrad) {
        return new AttentionInputs(flashMask, causal, keepRows, cos, sin, queryScale, keyScale, alibi, table, context,
                contextMask, tableGrad, contextGrad);
    }

    /**
     * These inputs with a cross-attention context and (for backward) its gradient accumulator.
     *
     * @param ctx the encoder's output {@code [B, Sk, D]} keys and values are projected from
     * @param ctxMask FlashMask of the context's padding, or {@code null}
     * @param ctxGrad the context's gradient accumulator (summed over the cross-attention layers), or {@code null} for
     *                inference
     * @return a copy of these inputs with the context set
     */
    public AttentionInputs withContext(DeviceTensor ctx, DeviceTensor ctxMask, DeviceTensor ctxGrad) {
        return new AttentionInputs(flashMask, causal, keepRows, cos, sin, queryScale, keyScale, alibi, biasTable, ctx,
                ctxMask, biasTableGrad, ctxGrad);
    }
}
