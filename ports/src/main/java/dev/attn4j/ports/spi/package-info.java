/**
 * What a backend author implements and uses: the provider found by ServiceLoader (BackendProvider), its probe result (Availability), the engine behind a Backend (BackendEngine), the shared tensor bookkeeping (DeviceTensorBase, TensorRegistry), 16-bit storage over F32 kernels (HalfPrecisionPorts), and backend selection (BackendSelector). See docs/design.md §2.
 */
package dev.attn4j.ports.spi;
