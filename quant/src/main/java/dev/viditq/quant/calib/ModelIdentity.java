package dev.viditq.quant.calib;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.models.Denoiser;
import dev.viditq.nn.models.ModelFamily;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Which model calibration statistics belong to: the family, every Linear's name and shape [out, in], and a
 * fingerprint of the weights (a hash over names, shapes and a sample of values of every Linear), so that a file
 * recorded on another model — other layers, or the same layers with other weights — is refused at quantize time.
 */
public record ModelIdentity(String family, Map<String, int[]> linears, String fingerprint) {
    private static final int SAMPLED_VALUES = 64;

    public static ModelIdentity of(Denoiser model) {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        MessageDigest sha = sha256();
        for (Linear l : model.linears().values()) {
            shapes.put(l.name(), new int[]{l.outFeatures(), l.inFeatures()});
            sha.update((l.name() + ":" + l.outFeatures() + "x" + l.inFeatures() + ";").getBytes(StandardCharsets.UTF_8));
            Tensor w = l.weight();
            long n = w.numel();
            for (long i = 0; i < Math.min(n, SAMPLED_VALUES); i++) putFloat(sha, w.getFloat(i));
            for (long i = Math.max(SAMPLED_VALUES, n - SAMPLED_VALUES); i < n; i++) putFloat(sha, w.getFloat(i));
        }
        ModelFamily family = model.info().family();
        return new ModelIdentity(family.id() + "/" + family.layout(), shapes,
                HexFormat.of().formatHex(sha.digest()).substring(0, 32));
    }

    private static void putFloat(MessageDigest sha, float v) {
        int b = Float.floatToIntBits(v);
        sha.update(new byte[]{(byte) b, (byte) (b >> 8), (byte) (b >> 16), (byte) (b >> 24)});
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * Throws naming {@code file} when the statistics there ({@code this}) were recorded on another model than
     * {@code model}: lists the first differing layers.
     */
    public void checkSameModel(ModelIdentity model, String file) {
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, int[]> e : model.linears.entrySet()) {
            int[] mine = linears.get(e.getKey());
            if (mine == null) problems.add("layer '" + e.getKey() + "' is missing from the calibration");
            else if (mine[0] != e.getValue()[0] || mine[1] != e.getValue()[1]) {
                problems.add("layer '" + e.getKey() + "' is [" + e.getValue()[0] + ", " + e.getValue()[1] + "] in the model but ["
                        + mine[0] + ", " + mine[1] + "] in the calibration");
            }
        }
        for (String name : linears.keySet()) {
            if (!model.linears.containsKey(name)) problems.add("the calibration has layer '" + name + "', the model does not");
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(file + ": calibration of another model (" + family + ", " + linears.size()
                    + " linears) than this one (" + model.family + ", " + model.linears.size() + " linears): "
                    + String.join("; ", problems.subList(0, Math.min(4, problems.size())))
                    + (problems.size() > 4 ? "; and " + (problems.size() - 4) + " more" : ""));
        }
        if (!fingerprint.equals(model.fingerprint)) {
            throw new IllegalArgumentException(file + ": calibration of another model: the layers have the same names and shapes "
                    + "but other weights (fingerprint " + fingerprint + " there, " + model.fingerprint + " here); calibrate this model");
        }
    }

    JsonNode toJson() {
        ObjectNode o = JsonNodeFactory.instance.objectNode();
        o.put("family", family);
        o.put("fingerprint", fingerprint);
        ObjectNode l = o.putObject("linears");
        linears.forEach((name, s) -> l.putArray(name).add(s[0]).add(s[1]));
        return o;
    }

    static ModelIdentity fromJson(JsonNode o) {
        Map<String, int[]> shapes = new LinkedHashMap<>();
        o.get("linears").properties().forEach(e -> shapes.put(e.getKey(),
                new int[]{e.getValue().get(0).asInt(), e.getValue().get(1).asInt()}));
        return new ModelIdentity(o.get("family").asText(), shapes, o.get("fingerprint").asText());
    }
}
