package dev.viditq.nn.layers;

import dev.viditq.core.tensor.Tensor;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The group of Linears reading one input: its name, its outputs, and the scope around the members' forwards. */
class SharedInputTest {
    private static Linear linear(String name, int in, int out, float base) {
        float[] w = new float[in * out];
        for (int i = 0; i < w.length; i++) w[i] = base + 0.01f * i;
        return new Linear(name, Tensor.of(w, out, in), Tensor.of(new float[out], out));
    }

    @Test
    void namedByTheCommonPrefixAndEachMembersRest() {
        assertEquals("blocks.3.attn1.{to_q,to_k,to_v}", SharedInput.nameOf(List.of("blocks.3.attn1.to_q", "blocks.3.attn1.to_k", "blocks.3.attn1.to_v")));
        assertEquals("blocks.3.attn2.{add_k_proj,add_v_proj}", SharedInput.nameOf(List.of("blocks.3.attn2.add_k_proj", "blocks.3.attn2.add_v_proj")));
        assertEquals("a.{bc,bd}", SharedInput.nameOf(List.of("a.bc", "a.bd")), "whole dotted parts only");
        assertEquals("{x,y}", SharedInput.nameOf(List.of("x", "y")));
    }

    @Test
    void outputsAreTheMembersOwnAndTheScopeBracketsThem() {
        Linear q = linear("p.to_q", 5, 3, 0.1f), k = linear("p.to_k", 5, 4, -0.2f), v = linear("p.to_v", 5, 3, 0.3f);
        SharedInput g = new SharedInput(List.of(q, k, v));
        Tensor x = Tensor.of(new float[]{1, 2, 3, 4, 5, -1, 0, 1, 0, 2}, 1, 2, 5);
        List<String> events = new ArrayList<>();
        for (Linear l : List.of(q, k, v)) {
            l.setExecutor((layer, x2d, out) -> {
                events.add(layer.name());
                Tensor y = new Linear(layer.name(), layer.weight(), layer.bias()).forward(x2d);
                out.data().copyFrom(y.data());
            });
        }
        g.setScope(new SharedInput.Scope() {
            @Override
            public void open(Tensor x2d) {
                assertArrayEquals(new long[]{2, 5}, x2d.shape(), "the input as [rows, in]");
                assertEquals(x.data().address(), x2d.data().address(), "the model's tensor itself, not a copy");
                events.add("open");
            }

            @Override
            public void close() {
                events.add("close");
            }
        });
        Tensor[] out = g.forward(x);
        assertEquals(List.of("open", "p.to_q", "p.to_k", "p.to_v", "close"), events);
        for (int i = 0; i < 3; i++) {
            Linear plain = new Linear("plain", g.members().get(i).weight(), g.members().get(i).bias());
            assertArrayEquals(plain.forward(x).toFloatArray(), out[i].toFloatArray());
            assertArrayEquals(new long[]{1, 2, g.members().get(i).outFeatures()}, out[i].shape());
        }
        // a failing member still closes the scope
        events.clear();
        k.setExecutor((layer, x2d, o) -> { throw new IllegalStateException("boom"); });
        assertThrows(IllegalStateException.class, () -> g.forward(x));
        assertEquals(List.of("open", "p.to_q", "close"), events);
        g.setScope(null);
        assertSame(null, g.scope());
    }

    @Test
    void refusesGroupsThatCannotShareAnInput() {
        Linear a = linear("a", 5, 3, 0f), b = linear("b", 6, 3, 0f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new SharedInput(List.of(a, b)));
        assertTrue(e.getMessage().contains("different input widths"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SharedInput(List.of(a)));
        SharedInput g = new SharedInput(List.of(a, linear("c", 5, 2, 0f)));
        e = assertThrows(IllegalArgumentException.class, () -> g.forward(Tensor.zeros(2, 6)));
        assertTrue(e.getMessage().contains("{a,c}"), e.getMessage());
    }
}
