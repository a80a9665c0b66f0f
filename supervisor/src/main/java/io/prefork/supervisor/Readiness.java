package io.prefork.supervisor;

/**
 * What the admin endpoint's /livez and /readyz read without asking the loop (so a busy loop never
 * makes a probe wait): when the loop last stepped, how many workers are READY, and whether a stop
 * (or its lame-duck period) has begun. Published by the loop after each step.
 */
public record Readiness(long steppedAt, int ready, int slots, boolean stopping) {
}
