/** The conformance suite: cases, pass rule, runner. */
package dev.attn4j.conformance;
