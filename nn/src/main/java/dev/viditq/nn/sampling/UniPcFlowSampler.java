package dev.viditq.nn.sampling;

import dev.viditq.core.tensor.Tensor;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.Set;

/**
 * diffusers {@code UniPCMultistepScheduler} on flow sigmas ({@code use_flow_sigmas}, {@code prediction_type
 * "flow_prediction"}, data prediction), as Wan 2.1 configures it: a UniP predictor of order ≤ {@code solver_order}
 * and, from the second step on, a UniC corrector that refines the sample with the new model output.
 *
 * <p>Schedule: s_i = linspace(1, 1/T, N + 1)[i] for i &lt; N, shifted s ← r·s/(1 + (r − 1)·s) (r = flow_shift), the
 * first one moved to 1 − 10⁻⁶ when it is 1 (its λ would be −∞); timesteps ⌊1000·s_i⌋ (int64 truncation); σ =
 * float32(s) followed by 0. Along x = (1 − σ)·x0 + σ·noise the model predicts noise − x0, so x0 = x − σ·v.
 *
 * <p>Rounding follows the official code: the coefficients (α = 1 − σ, λ = ln α − ln σ, h, expm1, the ρ of the
 * linear systems) are float32 computations on the float32 σ, the sample and model outputs float64. ln σ at the final
 * σ = 0 is −∞ and the update then lands on x0 exactly, as there.
 */
public final class UniPcFlowSampler implements Sampler {
    /** diffusers' {@code solver_type}: the B(h) of the UniPC paper. */
    public enum SolverType { BH1, BH2 }

    /**
     * @param trainSteps       num_train_timesteps (1000)
     * @param flowShift        flow_shift r (Wan 2.1: 3.0 at 480p, 5.0 at 720p)
     * @param order            solver_order, 1 to 3
     * @param lowerOrderFinal  lower_order_final: the last steps use no more history than steps remain
     * @param disableCorrector step indices after which the corrector is skipped (diffusers' disable_corrector)
     */
    public record Config(int trainSteps, double flowShift, int order, SolverType solverType, boolean lowerOrderFinal,
                         Set<Integer> disableCorrector) {
        /** Wan 2.1 at 480p: scripts/convert_wan_to_diffusers.py's scheduler. */
        public static final Config WAN_480P = new Config(1000, 3.0, 2, SolverType.BH2, true, Set.of());

        public Config {
            if (trainSteps < 1) throw new IllegalArgumentException("unipc: num_train_timesteps must be positive");
            if (!(flowShift > 0) || Double.isInfinite(flowShift)) {
                throw new IllegalArgumentException("unipc: flow_shift must be positive, got " + flowShift);
            }
            if (order < 1 || order > 3) throw new IllegalArgumentException("unipc: solver_order " + order + " is not supported (1 to 3)");
            disableCorrector = Set.copyOf(disableCorrector);
        }

        public Config withFlowShift(double shift) {
            return new Config(trainSteps, shift, order, solverType, lowerOrderFinal, disableCorrector);
        }
    }

    private final Config config;

    public UniPcFlowSampler(Config config) {
        this.config = config;
    }

    public Config config() {
        return config;
    }

    @Override public String name() { return "unipc"; }
    @Override public Prediction prediction() { return Prediction.FLOW; }

    /** The shifted flow sigmas s_0 .. s_{N-1} in float64, before the float32 rounding. */
    private double[] shiftedSigmas(int steps) {
        Latents.requireSteps(steps, Integer.MAX_VALUE, name());
        double[] s = NoiseSchedule.linspace(1, 1.0 / config.trainSteps(), steps + 1);
        double r = config.flowShift();
        double[] out = new double[steps];
        for (int i = 0; i < steps; i++) out[i] = r * s[i] / (1 + (r - 1) * s[i]);
        if (Math.abs(out[0] - 1) < 1e-6) out[0] -= 1e-6;
        return out;
    }

    /** The int64 timesteps of {@code set_timesteps}, highest first: ⌊T·s_i⌋. */
    public long[] timesteps(int steps) {
        double[] s = shiftedSigmas(steps);
        long[] t = new long[steps];
        for (int i = 0; i < steps; i++) t[i] = (long) (s[i] * config.trainSteps());
        return t;
    }

    /** {@code scheduler.sigmas}: the float32 sigmas of the steps, then the final 0 (length steps + 1). */
    public float[] sigmas(int steps) {
        double[] s = shiftedSigmas(steps);
        float[] out = new float[steps + 1];
        for (int i = 0; i < steps; i++) out[i] = (float) s[i];
        return out;
    }

    @Override
    public double[] modelTimes(int steps) {
        return TimestepSpacing.asModelTimes(timesteps(steps));
    }

    @Override
    public Tensor sample(ModelFunction model, Tensor noise, int steps, GaussianNoise rng, StepListener listener) {
        Latents.requireLatent(noise);
        long[] shape = noise.shape();
        long[] ts = timesteps(steps);
        Coefficients c = new Coefficients(sigmas(steps), config.solverType());
        double[] x = Latents.toDoubles(noise);
        Deque<double[]> outputs = new ArrayDeque<>(); // converted model outputs (x0 predictions), newest first
        double[] lastSample = null;
        int previousOrder = 1, lowerOrderNums = 0;
        for (int i = 0; i < steps; i++) {
            Step step = new Step(i, steps, ts[i]);
            double[] v = Latents.split(model.predict(Latents.toTensor(x, shape), step), shape).prediction();
            double[] x0 = dataPrediction(x, v, c.sigma[i]);
            if (i > 0 && lastSample != null && !config.disableCorrector().contains(i - 1)) {
                x = corrector(c, i, previousOrder, outputs, lastSample, x0);
            }
            outputs.addFirst(x0);
            if (outputs.size() > config.order()) outputs.removeLast();
            int order = config.lowerOrderFinal() ? Math.min(config.order(), steps - i) : config.order();
            order = Math.min(order, lowerOrderNums + 1);
            lastSample = x;
            x = predictor(c, i, order, outputs, x);
            previousOrder = order;
            if (lowerOrderNums < config.order()) lowerOrderNums++;
            listener.stepDone(step, Latents.toTensor(x, shape));
        }
        return Latents.toTensor(x, shape);
    }

    /** flow_prediction: x0 = x − σ·v, σ the float32 sigma of the step. */
    private static double[] dataPrediction(double[] x, double[] v, float sigma) {
        double[] x0 = new double[x.length];
        for (int k = 0; k < x.length; k++) x0[k] = x[k] - sigma * v[k];
        return x0;
    }

    /**
     * UniP from σ_i to σ_{i+1} ({@code multistep_uni_p_bh_update}): x ← (σ_t/σ_s)·x − α_t·φ₁·m0 − α_t·B(h)·Σρ_k·D_k,
     * D_k = (m_k − m0)/r_k over the older outputs; ρ = ½ at order 2, else solved.
     */
    private static double[] predictor(Coefficients c, int i, int order, Deque<double[]> outputs, double[] x) {
        Terms t = c.terms(i, i + 1, order, outputs);
        double[] rho = order == 2 ? new double[]{0.5} : order > 2 ? c.solve(t.system(), order - 1) : new double[0];
        double[] out = new double[x.length];
        for (int k = 0; k < x.length; k++) {
            double residual = 0;
            for (int j = 0; j < rho.length; j++) residual += rho[j] * t.differences[j][k];
            out[k] = t.ratio * x[k] - t.phi1 * t.m0[k] - t.bh * residual;
        }
        return out;
    }

    /**
     * UniC at step i ({@code multistep_uni_c_bh_update}): redoes the previous step from its starting sample with the
     * new output {@code modelT} as one more point: ... − α_t·B(h)·(Σρ_k·D_k + ρ_last·(modelT − m0)).
     */
    private static double[] corrector(Coefficients c, int i, int order, Deque<double[]> outputs, double[] last,
                                      double[] modelT) {
        Terms t = c.terms(i - 1, i, order, outputs);
        double[] rho = order == 1 ? new double[]{0.5} : c.solve(t.system(), order);
        double rhoLast = rho[rho.length - 1];
        double[] out = new double[last.length];
        for (int k = 0; k < last.length; k++) {
            double residual = 0;
            for (int j = 0; j < rho.length - 1; j++) residual += rho[j] * t.differences[j][k];
            out[k] = t.ratio * last[k] - t.phi1 * t.m0[k] - t.bh * (residual + rhoLast * (modelT[k] - t.m0[k]));
        }
        return out;
    }

    /**
     * The float32 quantities of one update from σ_s to σ_t: ratio σ_t/σ_s, φ₁ = α_t·expm1(−h), bh = α_t·B(h) (as
     * the official code multiplies them before meeting the float64 sample), the r_k and float64 D_k of the history,
     * and the rows of the order conditions (R[j][k] = r_k^j, b[j] = h_phi_{j+1}·(j+1)!/B(h)).
     */
    private record Terms(double ratio, double phi1, double bh, double[] m0, double[][] differences,
                         float[] rks, float[] b) {
        /** R (rows r^0, r^1, ...) and b as one augmented system over all order columns. */
        float[][] system() {
            int n = rks.length;
            float[][] a = new float[n][n + 1];
            for (int j = 0; j < n; j++) {
                for (int k = 0; k < n; k++) a[j][k] = (float) Math.pow(rks[k], j);
                a[j][n] = b[j];
            }
            return a;
        }
    }

    /** The float32 sigmas, α and λ of a run. */
    private static final class Coefficients {
        final float[] sigma;
        final float[] lambda;
        final SolverType type;

        Coefficients(float[] sigma, SolverType type) {
            this.sigma = sigma;
            this.type = type;
            lambda = new float[sigma.length];
            for (int i = 0; i < sigma.length; i++) {
                float alpha = 1f - sigma[i];
                lambda[i] = (float) Math.log(alpha) - (float) Math.log(sigma[i]);
            }
        }

        /**
         * Terms of an update from sigma index {@code s} to {@code t} of the given order. {@code outputs} holds the
         * converted outputs newest first: m0, the output at s, then output k at sigma index s − k. (The corrector
         * runs before the new output joins the history, so its m0 is the output at s = i − 1 as well.)
         */
        Terms terms(int s, int t, int order, Deque<double[]> outputs) {
            float sigmaT = sigma[t], sigmaS = sigma[s], alphaT = 1f - sigmaT;
            float h = lambda[t] - lambda[s];
            Iterator<double[]> it = outputs.iterator();
            double[] m0 = it.next();
            float[] rks = new float[order];
            double[][] diffs = new double[order - 1][];
            for (int k = 1; k < order; k++) {
                float rk = (lambda[s - k] - lambda[s]) / h;
                rks[k - 1] = rk;
                double[] mk = it.next();
                double[] d = new double[m0.length];
                for (int e = 0; e < d.length; e++) d[e] = (mk[e] - m0[e]) / rk;
                diffs[k - 1] = d;
            }
            rks[order - 1] = 1f;
            float hh = -h;
            float phi1 = (float) Math.expm1(hh);
            float bh = type == SolverType.BH1 ? hh : phi1;
            float[] b = new float[order];
            float hPhiK = phi1 / hh - 1f;
            int factorial = 1;
            for (int j = 1; j <= order; j++) {
                b[j - 1] = hPhiK * factorial / bh;
                factorial *= j + 1;
                hPhiK = hPhiK / hh - (float) (1.0 / factorial);
            }
            return new Terms(sigmaT / sigmaS, alphaT * phi1, alphaT * bh, m0, diffs, rks, b);
        }

        /**
         * Solves the leading {@code n}×{@code n} block of the augmented system in float32 as LAPACK's sgesv does:
         * LU with partial pivoting, the column below a pivot scaled by the pivot's reciprocal, then two triangular
         * solves. Returns ρ in float64.
         */
        double[] solve(float[][] augmented, int n) {
            float[][] a = new float[n][n + 1];
            int rhs = augmented[0].length - 1;
            for (int r = 0; r < n; r++) {
                System.arraycopy(augmented[r], 0, a[r], 0, n);
                a[r][n] = augmented[r][rhs];
            }
            for (int col = 0; col < n; col++) {
                int pivot = col;
                for (int r = col + 1; r < n; r++) if (Math.abs(a[r][col]) > Math.abs(a[pivot][col])) pivot = r;
                float[] swap = a[col];
                a[col] = a[pivot];
                a[pivot] = swap;
                float reciprocal = 1f / a[col][col];
                for (int r = col + 1; r < n; r++) {
                    float l = a[r][col] * reciprocal;
                    for (int k = col + 1; k <= n; k++) a[r][k] -= l * a[col][k];
                }
            }
            double[] x = new double[n];
            float[] xf = new float[n];
            for (int r = n - 1; r >= 0; r--) {
                float v = a[r][n];
                for (int k = r + 1; k < n; k++) v -= a[r][k] * xf[k];
                xf[r] = v / a[r][r];
                x[r] = xf[r];
            }
            return x;
        }
    }
}
