package io.pgbailiff.bench;

/** Percentiles of sorted samples, nearest-rank. */
final class Stats {
    private Stats() {
    }

    static long percentile(long[] sorted, double p) {
        if (sorted.length == 0) {
            return -1;
        }
        int rank = (int) Math.ceil(p / 100.0 * sorted.length);
        return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
    }
}
