package dev.viditq.nn.layers;

import dev.viditq.core.tensor.Tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntPredicate;

/**
 * Separate Linears that read one and the same input tensor: diffusers' {@code to_q / to_k / to_v} of a
 * self-attention (the modulated tokens), the {@code to_k / to_v} of a cross-attention (the caption), Wan I2V's
 * {@code add_k_proj / add_v_proj} (the image tokens). The models run such Linears through {@link #forward}, so that
 * work that depends only on the input can be done once for all of them: quantization gives the members one joint
 * balancing vector and, through a {@link Scope}, balances, rotates and quantizes the input once for the members'
 * integer GEMMs. A fused projection (the original layouts' {@code qkv}, {@code kv_linear}) is one Linear and has no
 * group. Without a scope, {@link #forward} is the members' own forwards, one after the other.
 *
 * <p>The model declares these groups ({@link dev.viditq.nn.models.Denoiser#sharedInputs()}): that the tensors are
 * the same is a fact of its code, not of the layers' names.
 */
public final class SharedInput {
    /**
     * Brackets the members' forwards on one input: {@link #open} before the first, {@link #close} after the last
     * (also when one fails). What it caches between the two belongs to that input only.
     */
    public interface Scope {
        /** The members are about to read {@code x2d} [rows, in], unchanged until {@link #close}. */
        void open(Tensor x2d);

        void close();
    }

    private final String name;
    private final List<Linear> members;
    private final int width;
    private Scope scope;

    /** At least two Linears of one input width, in the order the model runs them. */
    public SharedInput(List<Linear> members) {
        if (members.size() < 2) throw new IllegalArgumentException("a shared input needs at least two Linears, got " + names(members));
        this.members = List.copyOf(members);
        this.width = members.getFirst().inFeatures();
        for (Linear l : members) {
            if (l.inFeatures() != width) throw new IllegalArgumentException(names(members) + ": Linears of different input widths read no common input");
        }
        this.name = nameOf(names(members));
    }

    /** E.g. {@code blocks.3.attn1.{to_q,to_k,to_v}}: the members' common prefix and their own parts. */
    public String name() { return name; }

    /** The Linears reading the input, in execution order. */
    public List<Linear> members() { return members; }

    /** The members' names, in execution order. */
    public List<String> memberNames() { return names(members); }

    public int width() { return width; }

    /** The scope the next forwards run in (null: none); quantization sets it when it installs its executors. */
    public void setScope(Scope scope) {
        this.scope = scope;
    }

    public Scope scope() { return scope; }

    /** Every member's output on x (all rows real). */
    public Tensor[] forward(Tensor x) {
        return forward(x, null);
    }

    /** Every member's {@link Linear#forward(Tensor, IntPredicate)} on x, in member order, inside the scope if one is set. */
    public Tensor[] forward(Tensor x, IntPredicate realRows) {
        if (x.dim(-1) != width) throw new IllegalArgumentException(name + " expects last dim " + width + ", got " + x);
        Tensor[] out = new Tensor[members.size()];
        Scope s = scope;
        if (s != null) s.open(x.reshape(x.numel() / width, width));
        try {
            for (int i = 0; i < out.length; i++) out[i] = members.get(i).forward(x, realRows);
        } finally {
            if (s != null) s.close();
        }
        return out;
    }

    private static List<String> names(List<Linear> members) {
        List<String> out = new ArrayList<>();
        for (Linear l : members) out.add(l.name());
        return out;
    }

    /** {@code a.b.{x,y}} for {@code a.b.x} and {@code a.b.y}: the dotted prefix they share, then the rest of each. */
    static String nameOf(List<String> names) {
        String first = names.getFirst();
        int common = first.length();
        for (String n : names) {
            int i = 0;
            while (i < Math.min(common, n.length()) && n.charAt(i) == first.charAt(i)) i++;
            common = i;
        }
        int cut = first.lastIndexOf('.', common - 1) + 1; // whole dotted parts only
        List<String> rest = new ArrayList<>();
        for (String n : names) rest.add(n.substring(cut));
        return first.substring(0, cut) + "{" + String.join(",", rest) + "}";
    }
}
