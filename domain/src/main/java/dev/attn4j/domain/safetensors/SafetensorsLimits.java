package dev.attn4j.domain.safetensors;

/**
 * What a {@link SafetensorsReader} accepts from a header before it refuses the file. The header is parsed as a
 * stream, and everything kept from it is capped here, so the memory a header can make the reader use is bounded
 * (by these limits, and in proportion to the header's size) whatever the file claims. The defaults accept every
 * checkpoint and fixture seen in practice by a wide margin.
 *
 * <pre>{@code
 * SafetensorsReader.open(path, SafetensorsLimits.DEFAULT.withMaxTensors(200_000));
 * }</pre>
 *
 * @param maxHeaderBytes      the largest JSON header, in bytes (the reference implementation's 100 MB)
 * @param maxTensors          the most tensor entries
 * @param maxMetadataEntries  the most {@code __metadata__} entries
 * @param maxNameChars        the longest tensor name or metadata key, in chars
 * @param maxStringChars      the longest string value of the header (a metadata value), in chars
 * @param maxMetadataChars    the most chars of all metadata keys and values together
 * @param maxRank             the most dimensions of one tensor
 */
public record SafetensorsLimits(long maxHeaderBytes, int maxTensors, int maxMetadataEntries, int maxNameChars,
                                int maxStringChars, long maxMetadataChars, int maxRank) {

    /** 100 MB header, 65,536 tensors, 4,096 metadata entries, 1,024-char names, 16 Mi-char values, 64 Mi chars of metadata, rank 16. */
    public static final SafetensorsLimits DEFAULT = new SafetensorsLimits(100_000_000L, 1 << 16, 4096, 1024,
            16 << 20, 64L << 20, 16);

    /** Every limit must be positive. */
    public SafetensorsLimits {
        if (maxHeaderBytes < 2 || maxTensors < 1 || maxMetadataEntries < 0 || maxNameChars < 1 || maxStringChars < 1
                || maxMetadataChars < 0 || maxRank < 1) {
            throw new IllegalArgumentException("safetensors limits must be positive: " + maxHeaderBytes + ", "
                    + maxTensors + ", " + maxMetadataEntries + ", " + maxNameChars + ", " + maxStringChars + ", "
                    + maxMetadataChars + ", " + maxRank);
        }
    }

    /**
     * {@return these limits with another tensor count}
     *
     * @param n the new limit
     */
    public SafetensorsLimits withMaxTensors(int n) {
        return new SafetensorsLimits(maxHeaderBytes, n, maxMetadataEntries, maxNameChars, maxStringChars,
                maxMetadataChars, maxRank);
    }

    /**
     * {@return these limits with another header size}
     *
     * @param n the new limit
     */
    public SafetensorsLimits withMaxHeaderBytes(long n) {
        return new SafetensorsLimits(n, maxTensors, maxMetadataEntries, maxNameChars, maxStringChars,
                maxMetadataChars, maxRank);
    }
}
