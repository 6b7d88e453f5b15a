/**
 * The random port: uniform fills from the Philox stream attention dropout uses, identical on every backend. See docs/design.md §9.
 */
package dev.attn4j.ports.random;
