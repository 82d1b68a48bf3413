package dev.viditq.quant.runtime;

import dev.viditq.core.kernels.quant.QuantizedActivations;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.SharedInput;
import dev.viditq.quant.plan.LayerPlan;
import dev.viditq.quant.plan.QuantPlan;
import dev.viditq.quant.plan.SharedInputGroup;

import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The run-time side of a {@link SharedInputGroup}: the {@link SharedInput.Scope} of the model's group. While the
 * model runs the members on one input, the first member's integer executor quantizes it (balancing, rotation,
 * int8 per token, or whatever the members' common plan says for the step's activation bits) into a buffer held
 * here, and the other members' GEMMs read that buffer instead of quantizing again. Outside the scope, or for
 * another tensor, each member quantizes its own input as before.
 *
 * <p>The members' plans quantize identically (same balancing vector, rotation, static ranges, folding), which
 * {@link #install} checks, so the shared buffer holds exactly what each member would have computed.
 */
final class SharedActivations implements SharedInput.Scope {
    private static final int NONE = -1;

    private final SharedInputGroup group;
    private final int width;
    private MemorySegment input;    // the tensor of the open scope, null when closed
    private long rows;
    private int bits = NONE;        // activation bits of what `held` holds for it
    private QuantizedActivations held;

    private SharedActivations(SharedInputGroup group, int width) {
        this.group = group;
        this.width = width;
    }

    @Override
    public void open(Tensor x2d) {
        input = x2d.data();
        rows = x2d.size(0);
        bits = NONE;
    }

    @Override
    public void close() {
        input = null;
        bits = NONE;
        held = null;
    }

    String name() {
        return group.name();
    }

    /**
     * {@code x} quantized at {@code activationBits}: by {@code quantize} (into a buffer of this thread's) on the
     * first call of the open scope, the same buffer on later ones. Null when no scope is open on this very tensor:
     * the caller quantizes on its own.
     */
    QuantizedActivations quantized(MemorySegment x, int rows, int activationBits, Consumer<QuantizedActivations> quantize) {
        if (input == null || x.address() != input.address() || rows != this.rows || x.byteSize() != input.byteSize()) return null;
        if (bits != activationBits) {
            bits = NONE;
            QuantizedActivations b = buffer(rows, width);
            quantize.accept(b);
            held = b;
            bits = activationBits;
        }
        return held;
    }

    /**
     * One buffer per thread and input width, for every group: it lives only inside one scope, and scopes never nest
     * (the members are Linears, which open none). Separate from the per-layer buffers of {@link IntegerArithmetic},
     * which a member quantizing on its own would overwrite.
     */
    private static QuantizedActivations buffer(int rows, int width) {
        Map<Integer, QuantizedActivations> byWidth = BUFFERS.get();
        QuantizedActivations b = byWidth.get(width);
        if (b == null || b.capacity() < rows) {
            b = QuantizedActivations.allocate(Math.max(rows, 16), width);
            byWidth.put(width, b);
        }
        return b;
    }

    private static final ThreadLocal<Map<Integer, QuantizedActivations>> BUFFERS = ThreadLocal.withInitial(HashMap::new);

    /**
     * Clears every scope of {@code model}'s groups, then, when {@code integer}, sets one on each group the plan
     * records; returns the scope of each member layer. A recorded group the model does not have, or whose members
     * would quantize differently, is an error (the folder does not match the model, or was edited).
     */
    static Map<String, SharedActivations> install(List<SharedInput> modelGroups, QuantPlan plan, Set<String> folded, boolean integer) {
        Map<List<String>, SharedInput> byMembers = new HashMap<>();
        for (SharedInput g : modelGroups) {
            g.setScope(null);
            byMembers.put(g.memberNames(), g);
        }
        Map<String, SharedActivations> out = new LinkedHashMap<>();
        if (!integer) return out;
        for (SharedInputGroup recorded : plan.sharedInputs()) {
            SharedInput g = byMembers.get(recorded.layers());
            if (g == null) {
                throw new IllegalArgumentException("the quantized model shares the input of " + recorded.layers()
                        + ", which this model does not run as one group");
            }
            checkAlike(recorded, plan, folded);
            SharedActivations scope = new SharedActivations(recorded, g.width());
            g.setScope(scope);
            for (String l : recorded.layers()) out.put(l, scope);
        }
        return out;
    }

    /** The members quantize their input identically: balancing (or none), its folding, rotation, static ranges. */
    private static void checkAlike(SharedInputGroup group, QuantPlan plan, Set<String> folded) {
        LayerPlan first = plan.layers().get(group.layers().getFirst());
        for (String name : group.layers()) {
            LayerPlan p = plan.layers().get(name);
            boolean alike = Arrays.equals(p.smooth(), first.smooth()) && Objects.equals(p.rotation(), first.rotation())
                    && Objects.equals(p.ranges(), first.ranges()) && folded.contains(name) == folded.contains(first.name());
            if (!alike) {
                throw new IllegalArgumentException(group.name() + ": recorded as sharing one quantized input, but " + name + " and "
                        + first.name() + " differ in balancing, rotation, static ranges or folding");
            }
        }
    }
}
