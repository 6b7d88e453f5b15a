/**
 * The conformance suite: seeded cases ({@link dev.attn4j.conformance.ConformanceSuite#standard()}: 400 attention
 * configurations, 300 of them core (F32, causal or not, GQA/MQA, scale) and 100 with the other features, and
 * 120 normalisation configurations, plus the systematic {@link dev.attn4j.conformance.FeatureGrid} of 216
 * attention configurations and 10 rotary configurations, each giving a forward and a backward case), the pass rule of docs/design.md §7
 * ({@link dev.attn4j.oracle.PassRule}) against the float64 oracle of module {@code dev.attn4j.oracle},
 * and the runner. The app's command and the JUnit suite both call {@link dev.attn4j.conformance.ConformanceSuite},
 * so they run the same cases under the same rule.
 *
 * <pre>{@code
 * mvn -B -pl conformance-tests -am verify                                   # standard suite, every backend
 * mvn -B -pl conformance-tests -am verify -Dattn4j.conformance.sweep=large  # ten times as many cases
 * mvn -B -pl conformance-tests -am verify -Dattn4j.conformance.cases=2000   # a chosen count
 * }</pre>
 */
package dev.attn4j.conformance;
