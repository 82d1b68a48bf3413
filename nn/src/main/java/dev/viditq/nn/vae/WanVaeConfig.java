package dev.viditq.nn.vae;

import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.nn.models.ModelConfig;

import java.nio.file.Path;
import java.util.Arrays;

/**
 * diffusers' {@code AutoencoderKLWan} config (Wan 2.1 layout), absent keys taking the constructor's defaults.
 * Refused: the Wan 2.2 options (is_residual, patch_size), a decoder_base_dim other than base_dim.
 *
 * @param dimMult            channel multipliers per level (encoder widths base·[1] + mult, decoder reversed)
 * @param attnScales         encoder scales (1, 1/2, ...) with an attention block after each residual block
 * @param temporalDownsample per encoder level but the last: halve the frame rate (the decoder mirrors it)
 * @param latentsMean        per-channel latent mean, float32 as the pipeline reads it
 * @param latentsStd         per-channel latent standard deviation, float32
 */
public record WanVaeConfig(int baseDim, int zDim, int[] dimMult, int numResBlocks, double[] attnScales,
                           boolean[] temporalDownsample, int inChannels, int outChannels, float[] latentsMean,
                           float[] latentsStd) {
    private static final float[] WAN21_MEAN = {-0.7571f, -0.7089f, -0.9113f, 0.1075f, -0.1745f, 0.9653f, -0.1517f, 1.5508f,
            0.4134f, -0.0715f, 0.5517f, -0.3632f, -0.1922f, -0.9497f, 0.2503f, -0.2921f};
    private static final float[] WAN21_STD = {2.8184f, 1.4541f, 2.3275f, 2.6558f, 1.2196f, 1.7708f, 2.6052f, 2.0743f,
            3.2687f, 2.1526f, 2.8652f, 1.5579f, 1.6382f, 1.1253f, 2.8251f, 1.9160f};

    public WanVaeConfig {
        if (temporalDownsample.length != dimMult.length - 1) {
            throw new IllegalArgumentException("temperal_downsample needs " + (dimMult.length - 1) + " entries (one per downsampling"
                    + " level), has " + temporalDownsample.length);
        }
        if (latentsMean.length != zDim || latentsStd.length != zDim) {
            throw new IllegalArgumentException("latents_mean and latents_std need z_dim = " + zDim + " values");
        }
    }

    /** Encoder widths: base · [1, dim_mult...]. */
    int[] encoderDims() {
        int[] d = new int[dimMult.length + 1];
        d[0] = baseDim;
        for (int i = 0; i < dimMult.length; i++) d[i + 1] = baseDim * dimMult[i];
        return d;
    }

    /** Decoder widths: base · [dim_mult[-1], reversed dim_mult...]. */
    int[] decoderDims() {
        int[] d = new int[dimMult.length + 1];
        d[0] = baseDim * dimMult[dimMult.length - 1];
        for (int i = 0; i < dimMult.length; i++) d[i + 1] = baseDim * dimMult[dimMult.length - 1 - i];
        return d;
    }

    /** Frames of video per latent frame after the first: 2^(temporal downsamplings). */
    public int temporalFactor() {
        int f = 1;
        for (boolean t : temporalDownsample) if (t) f *= 2;
        return f;
    }

    /** Pixels per latent cell along each side: 2^(levels − 1). */
    public int spatialFactor() {
        return 1 << (dimMult.length - 1);
    }

    /** The released Wan 2.1 VAE: every constructor default (base_dim 96, z_dim 16, dim_mult [1, 2, 4, 4], ...). */
    public static WanVaeConfig wan21() {
        return from(new ModelConfig(Path.of("(Wan 2.1 VAE defaults)"), new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode()));
    }

    public static WanVaeConfig load(Path file) {
        return from(ModelConfig.read(file));
    }

    public static WanVaeConfig from(ModelConfig c) {
        if (c.getBool("is_residual", false)) throw c.error("is_residual (the Wan 2.2 VAE) is not supported");
        if (c.has("patch_size")) throw c.error("patch_size (the Wan 2.2 VAE) is not supported");
        int base = c.getInt("base_dim", 96);
        if (c.has("decoder_base_dim") && c.getInt("decoder_base_dim") != base) {
            throw c.error("decoder_base_dim other than base_dim is not supported");
        }
        int[] mult = c.has("dim_mult") ? c.getIntList("dim_mult") : new int[]{1, 2, 4, 4};
        boolean[] temporal = c.has("temperal_downsample") ? booleans(c, "temperal_downsample") : new boolean[]{false, true, true};
        int z = c.getInt("z_dim", 16);
        return new WanVaeConfig(base, z, mult, c.getInt("num_res_blocks", 2), doubles(c, "attn_scales"), temporal,
                c.getInt("in_channels", 3), c.getInt("out_channels", 3),
                c.has("latents_mean") ? floats(c, "latents_mean") : WAN21_MEAN.clone(),
                c.has("latents_std") ? floats(c, "latents_std") : WAN21_STD.clone());
    }

    private static boolean[] booleans(ModelConfig c, String key) {
        JsonNode n = c.node(key);
        if (!n.isArray()) throw c.error("\"" + key + "\" should be a list of booleans, is " + n);
        boolean[] out = new boolean[n.size()];
        for (int i = 0; i < out.length; i++) {
            if (!n.get(i).isBoolean()) throw c.error("\"" + key + "\" should be a list of booleans, is " + n);
            out[i] = n.get(i).asBoolean();
        }
        return out;
    }

    private static double[] doubles(ModelConfig c, String key) {
        JsonNode n = c.node(key);
        if (n == null) return new double[0];
        if (!n.isArray()) throw c.error("\"" + key + "\" should be a list of numbers, is " + n);
        double[] out = new double[n.size()];
        for (int i = 0; i < out.length; i++) {
            if (!n.get(i).isNumber()) throw c.error("\"" + key + "\" should be a list of numbers, is " + n);
            out[i] = n.get(i).asDouble();
        }
        return out;
    }

    private static float[] floats(ModelConfig c, String key) {
        double[] d = doubles(c, key);
        float[] out = new float[d.length];
        for (int i = 0; i < d.length; i++) out[i] = (float) d[i];
        return out;
    }

    @Override
    public String toString() {
        return "WanVaeConfig[base_dim " + baseDim + ", z_dim " + zDim + ", dim_mult " + Arrays.toString(dimMult)
                + ", num_res_blocks " + numResBlocks + ", temperal_downsample " + Arrays.toString(temporalDownsample) + "]";
    }
}
