package dev.viditq.quant.plan;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.quant.config.QuantConfig;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@link QuantPlan} as JSON (the quantized checkpoint's metadata), except the per-layer vectors — the balancing
 * vector and the static activation ranges — which the checkpoint holds as tensors and the reader passes in.
 */
public final class PlanJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private PlanJson() {}

    /** Reads per-layer vectors stored beside the plan. */
    public interface Vectors {
        /** The balancing vector of {@code layer} ([in]). */
        float[] smooth(String layer, int in);

        /** The static ranges of {@code layer} ([buckets × halves]). */
        float[] ranges(String layer, int count);
    }

    public static ObjectNode toJson(QuantPlan plan) {
        ObjectNode o = JSON.createObjectNode();
        o.put("method", plan.method());
        o.put("source", plan.source());
        ObjectNode w = o.putObject("weights");
        w.put("symmetric", plan.weights().symmetric());
        w.put("granularity", plan.weights().granularity().name());
        w.put("group_size", plan.weights().groupSize());
        w.put("bits", plan.weights().bits());
        w.put("scale_dtype", plan.weights().scaleType().name());
        ObjectNode a = o.putObject("activations");
        a.put("granularity", plan.activations().granularity().name());
        a.put("dynamic", plan.activations().dynamic());
        ArrayNode notes = o.putArray("notes");
        plan.notes().forEach(notes::add);
        ObjectNode layers = o.putObject("layers");
        plan.layers().forEach((name, l) -> layers.set(name, layer(l)));
        ArrayNode shared = o.putArray("shared_inputs");
        for (SharedInputGroup g : plan.sharedInputs()) {
            ObjectNode n = shared.addObject();
            n.put("name", g.name());
            g.layers().forEach(n.putArray("layers")::add);
        }
        return o;
    }

    private static ObjectNode layer(LayerPlan l) {
        ObjectNode o = JSON.createObjectNode();
        o.put("in", l.in());
        o.put("out", l.out());
        o.put("smooth", l.smooth() != null);
        if (l.rotation() != null) o.putObject("rotation").put("block", l.rotation().block()).put("seed", l.rotation().seed());
        o.put("weight_bits", l.base().weightBits());
        o.put("activation_bits", l.base().activationBits());
        ArrayNode ov = o.putArray("overrides");
        for (BitOverride b : l.overrides()) {
            ObjectNode r = ov.addObject();
            if (b.weightBits() != null) r.put("weight_bits", b.weightBits());
            if (b.activationBits() != null) r.put("activation_bits", b.activationBits());
            if (b.keepFloat()) r.put("float", true);
            if (b.steps() != null) r.putArray("steps").add(b.steps()[0]).add(b.steps()[1]);
            if (b.timesteps() != null) r.putArray("timesteps").add(b.timesteps()[0]).add(b.timesteps()[1]);
        }
        if (l.gptq() != null) {
            o.putObject("gptq").put("damp", l.gptq().damp()).put("act_order", l.gptq().actOrder()).put("block_size", l.gptq().blockSize());
        }
        if (l.hasLowRank()) o.put("low_rank", l.lowRank());
        if (l.weightSpec() != null) {
            o.putObject("weights").put("granularity", l.weightSpec().granularity().name()).put("group_size", l.weightSpec().groupSize());
        }
        if (l.ranges() != null) {
            ObjectNode r = o.putObject("ranges");
            ArrayNode t = r.putArray("timesteps");
            for (double v : l.ranges().timesteps()) {
                if (Double.isNaN(v)) t.addNull();
                else t.add(v);
            }
            r.put("cfg_split", l.ranges().cfgSplit());
        }
        return o;
    }

    /** The plan from its JSON and the stored vectors; malformed JSON is an {@link IllegalArgumentException}. */
    public static QuantPlan fromJson(JsonNode o, Vectors vectors) {
        JsonNode w = need(o, "weights");
        QuantConfig.WeightSpec weights = new QuantConfig.WeightSpec(need(w, "bits").asInt(), need(w, "symmetric").asBoolean(),
                QuantConfig.WeightGranularity.valueOf(need(w, "granularity").asText()), need(w, "group_size").asInt(), scaleType(w));
        JsonNode a = need(o, "activations");
        QuantPlan.ActivationScheme acts = new QuantPlan.ActivationScheme(
                QuantConfig.ActivationGranularity.valueOf(need(a, "granularity").asText()), need(a, "dynamic").asBoolean());
        List<String> notes = new ArrayList<>();
        need(o, "notes").forEach(n -> notes.add(n.asText()));
        Map<String, LayerPlan> layers = new LinkedHashMap<>();
        need(o, "layers").properties().forEach(e -> layers.put(e.getKey(), layer(e.getKey(), e.getValue(), vectors, weights)));
        return new QuantPlan(need(o, "method").asText(), need(o, "source").asText(), weights, acts, layers, notes, sharedInputs(o));
    }

    /** The recorded groups; none in plans written before groups existed (their layers each have their own vector). */
    private static List<SharedInputGroup> sharedInputs(JsonNode o) {
        List<SharedInputGroup> out = new ArrayList<>();
        JsonNode groups = o.get("shared_inputs");
        if (groups == null || groups.isNull()) return out;
        for (JsonNode g : groups) {
            List<String> layers = new ArrayList<>();
            need(g, "layers").forEach(l -> layers.add(l.asText()));
            out.add(new SharedInputGroup(need(g, "name").asText(), layers));
        }
        return out;
    }

    /** The stored type of the weight scales; plans written before it was recorded stored F32. */
    private static QuantConfig.ScaleType scaleType(JsonNode weights) {
        JsonNode t = weights.get("scale_dtype");
        if (t == null || t.isNull()) return QuantConfig.ScaleType.F32;
        for (QuantConfig.ScaleType s : QuantConfig.ScaleType.values()) if (s.name().equals(t.asText())) return s;
        throw new IllegalArgumentException("weight scale_dtype '" + t.asText() + "' is neither F32 nor BF16");
    }

    private static LayerPlan layer(String name, JsonNode o, Vectors vectors, QuantConfig.WeightSpec planWeights) {
        int in = need(o, "in").asInt(), out = need(o, "out").asInt();
        float[] smooth = need(o, "smooth").asBoolean() ? vectors.smooth(name, in) : null;
        JsonNode r = o.get("rotation");
        RotationSpec rotation = r == null || r.isNull() ? null : new RotationSpec(need(r, "block").asInt(), need(r, "seed").asLong());
        Precision base = new Precision(need(o, "weight_bits").asInt(), need(o, "activation_bits").asInt());
        List<BitOverride> overrides = new ArrayList<>();
        for (JsonNode b : need(o, "overrides")) {
            overrides.add(new BitOverride(b.has("weight_bits") ? b.get("weight_bits").asInt() : null,
                    b.has("activation_bits") ? b.get("activation_bits").asInt() : null, b.path("float").asBoolean(false),
                    b.has("steps") ? new int[]{b.get("steps").get(0).asInt(), b.get("steps").get(1).asInt()} : null,
                    b.has("timesteps") ? new double[]{b.get("timesteps").get(0).asDouble(), b.get("timesteps").get(1).asDouble()} : null));
        }
        StaticRanges ranges = null;
        JsonNode rn = o.get("ranges");
        if (rn != null && !rn.isNull()) {
            JsonNode ts = need(rn, "timesteps");
            double[] t = new double[ts.size()];
            for (int i = 0; i < t.length; i++) t[i] = ts.get(i).isNull() ? Double.NaN : ts.get(i).asDouble();
            boolean split = need(rn, "cfg_split").asBoolean();
            ranges = new StaticRanges(t, split, vectors.ranges(name, t.length * (split ? 2 : 1)));
        }
        JsonNode g = o.get("gptq");
        QuantConfig.Gptq gptq = g == null || g.isNull() ? null
                : new QuantConfig.Gptq(need(g, "damp").asDouble(), need(g, "act_order").asBoolean(), need(g, "block_size").asInt());
        int lowRank = o.path("low_rank").asInt(0);
        JsonNode lw = o.get("weights");
        QuantConfig.WeightSpec spec = lw == null || lw.isNull() ? null : new QuantConfig.WeightSpec(planWeights.bits(), planWeights.symmetric(),
                QuantConfig.WeightGranularity.valueOf(need(lw, "granularity").asText()), need(lw, "group_size").asInt(),
                planWeights.scaleType());
        return new LayerPlan(name, in, out, smooth, rotation, base, overrides, ranges, gptq, lowRank, spec);
    }

    private static JsonNode need(JsonNode o, String key) {
        JsonNode n = o.get(key);
        if (n == null || n.isNull()) throw new IllegalArgumentException("quantization plan lacks '" + key + "'");
        return n;
    }
}
