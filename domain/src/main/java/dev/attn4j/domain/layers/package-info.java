/**
 * Transformer layers with explicit forward and backward passes over the ports (docs/design.md §10): linear
 * layers with optional adapters, norms, attention (self and cross), feed-forward, token shift, and the residual
 * block that wires them in pre- or post-norm order. Each forward returns what its backward needs; each backward
 * reads as its forward reversed and accumulates its parameters' gradients. {@link dev.attn4j.domain.layers.Step}
 * carries a pass's backend, random stream and clean-up scope.
 */
package dev.attn4j.domain.layers;
