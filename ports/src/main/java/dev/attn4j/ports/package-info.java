/**
 * The facade callers use (Backend, Backends), what backends declare (Capabilities, PortCapabilities), the shared checks of the validating ports (PortGuard, Scalars) and the errors (Attn4jException and its kinds). See docs/design.md §1–§6.
 */
package dev.attn4j.ports;
