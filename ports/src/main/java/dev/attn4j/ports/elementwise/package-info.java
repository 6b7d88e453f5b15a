/**
 * The element-wise port: residual adds, in-place accumulation and scaling, vector broadcasts along rows or columns, and per-document token shift, each with its backward. See docs/design.md §9.
 */
package dev.attn4j.ports.elementwise;
