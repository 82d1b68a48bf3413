package dev.viditq.core.kernels.quant;

import java.util.ArrayList;
import java.util.List;

/**
 * Hadamard matrices of order n = m · 2^j, built as the Kronecker product H_m ⊗ H_{2^j}: H_{2^j} is Sylvester's
 * (applied by the fast Walsh–Hadamard transform, j·n additions), H_m is dense (m additions per element) and
 * comes from Paley's constructions with a prime q:
 * <ul>
 *   <li>Paley I, q ≡ 3 (mod 4): order q + 1 — 4, 8, 12, 20, 24, 32, 44, 48, 60, 68, 72, 80, 84, ...</li>
 *   <li>Paley II, q ≡ 1 (mod 4): order 2(q + 1) — 12, 28, 36, 60, 76, 84, 108, 124, ...</li>
 * </ul>
 * For n the smallest such m is used, so most of the work is the fast transform: 1152 = 36 · 32 (Paley II,
 * q = 17), 144 = 36 · 4, 768 = 12 · 64, 3072 = 12 · 256, 5120 = 20 · 256; powers of two are pure Sylvester.
 * Not supported (no m of these families divides n with a power-of-two cofactor): orders that are not
 * multiples of 4 (except 1 and 2), and rare ones such as 92 or 116 — {@link #order(int)} says so.
 *
 * <p>Index convention: element i of a block is (a, b) with i = a · 2^j + b, and
 * H[(a,b),(a',b')] = H_m[a][a'] · H_{2^j}[b][b'].
 */
public final class Hadamard {
    private Hadamard() {}

    /** How an order is built: n = m · p, p a power of two, m = 1 or a Paley order. */
    public record Order(int n, int m, int p) {}

    /** True when {@link #order(int)} can build a Hadamard matrix of order n. */
    public static boolean isSupported(int n) {
        return findBase(n) > 0;
    }

    /** The factorization used for order n; throws with the list of nearby supported orders otherwise. */
    public static Order order(int n) {
        int m = findBase(n);
        if (m <= 0) {
            throw new IllegalArgumentException("no Hadamard matrix of order " + n + " here: supported orders are m·2^j"
                    + " with m = 1 or a Paley order (q+1 for a prime q ≡ 3 mod 4, 2(q+1) for a prime q ≡ 1 mod 4),"
                    + " e.g. 12, 20, 28, 36, 44; nearby supported orders: " + nearbySupported(n));
        }
        return new Order(n, m, n / m);
    }

    /** Dense ±1 matrix H_m of a Paley (or trivial) order m, row-major, with H·Hᵀ = m·I. */
    public static float[] baseMatrix(int m) {
        if (m == 1) return new float[] {1f};
        if (m == 2) return new float[] {1f, 1f, 1f, -1f};
        if ((m & (m - 1)) == 0) return sylvester(m);
        int q = m - 1;
        if (isPrime(q) && q % 4 == 3) return paleyOne(q);
        q = m / 2 - 1;
        if (m % 2 == 0 && isPrime(q) && q % 4 == 1) return paleyTwo(q);
        throw new IllegalArgumentException("order " + m + " is not a Paley order");
    }

    /** The full n × n matrix (±1, row-major), for oracles and offline use; O(n²) memory. */
    public static float[] dense(int n) {
        Order o = order(n);
        float[] hm = baseMatrix(o.m());
        float[] h = new float[n * n];
        for (int a = 0; a < o.m(); a++) {
            for (int b = 0; b < o.p(); b++) {
                for (int a2 = 0; a2 < o.m(); a2++) {
                    for (int b2 = 0; b2 < o.p(); b2++) {
                        float sylvester = (Integer.bitCount(b & b2) & 1) == 0 ? 1f : -1f;
                        h[(a * o.p() + b) * n + a2 * o.p() + b2] = hm[a * o.m() + a2] * sylvester;
                    }
                }
            }
        }
        return h;
    }

    /** The smallest base m (1 or Paley) with n = m · 2^j, or -1. */
    private static int findBase(int n) {
        if (n < 1) return -1;
        int p = Integer.lowestOneBit(n);
        int odd = n / p;
        if (odd == 1) return 1;
        for (int base = odd; base <= n; base *= 2) {
            if (isPaleyOrder(base)) return base;
        }
        return -1;
    }

    private static boolean isPaleyOrder(int m) {
        if (m % 4 != 0) return false;
        int q1 = m - 1, q2 = m / 2 - 1;
        return (isPrime(q1) && q1 % 4 == 3) || (isPrime(q2) && q2 % 4 == 1);
    }

    private static String nearbySupported(int n) {
        List<Integer> found = new ArrayList<>();
        for (int d = 1; found.size() < 4 && d < Math.max(64, n); d++) {
            if (n - d > 0 && isSupported(n - d)) found.add(n - d);
            if (isSupported(n + d)) found.add(n + d);
        }
        found.sort(null);
        return found.toString();
    }

    private static float[] sylvester(int p) {
        float[] h = new float[p * p];
        for (int i = 0; i < p; i++) {
            for (int j = 0; j < p; j++) h[i * p + j] = (Integer.bitCount(i & j) & 1) == 0 ? 1f : -1f;
        }
        return h;
    }

    /** Legendre symbol of a modulo the odd prime q: 0, 1 (nonzero square) or -1. */
    private static int chi(int a, int q) {
        a = Math.floorMod(a, q);
        if (a == 0) return 0;
        long r = 1, base = a;
        for (int e = (q - 1) / 2; e > 0; e >>= 1) {
            if ((e & 1) == 1) r = r * base % q;
            base = base * base % q;
        }
        return r == 1 ? 1 : -1;
    }

    /** Paley I: H = I + S, S = [[0, 1ᵀ], [-1, Q]] with the Jacobsthal matrix Q[i][j] = χ(j - i). */
    private static float[] paleyOne(int q) {
        int n = q + 1;
        float[] h = new float[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < n; j++) {
                int s;
                if (i == 0) s = j == 0 ? 0 : 1;
                else if (j == 0) s = -1;
                else s = chi(j - i, q);
                h[i * n + j] = (i == j ? 1 : 0) + s;
            }
        }
        return h;
    }

    /**
     * Paley II: the symmetric conference matrix C = [[0, 1ᵀ], [1, Q]] with each entry replaced by a 2×2 block:
     * 0 → [[1, -1], [-1, -1]], ±1 → ±[[1, 1], [1, -1]].
     */
    private static float[] paleyTwo(int q) {
        int c = q + 1, n = 2 * c;
        float[] h = new float[n * n];
        for (int i = 0; i < c; i++) {
            for (int j = 0; j < c; j++) {
                int s;
                if (i == 0) s = j == 0 ? 0 : 1;
                else if (j == 0) s = 1;
                else s = chi(j - i, q);
                float[] block = s == 0 ? new float[] {1, -1, -1, -1} : new float[] {s, s, s, -s};
                h[(2 * i) * n + 2 * j] = block[0];
                h[(2 * i) * n + 2 * j + 1] = block[1];
                h[(2 * i + 1) * n + 2 * j] = block[2];
                h[(2 * i + 1) * n + 2 * j + 1] = block[3];
            }
        }
        return h;
    }

    static boolean isPrime(int v) {
        if (v < 2) return false;
        for (int d = 2; (long) d * d <= v; d++) if (v % d == 0) return false;
        return true;
    }
}
