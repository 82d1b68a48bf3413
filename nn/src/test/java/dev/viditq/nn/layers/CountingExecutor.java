package dev.viditq.nn.layers;

import dev.viditq.core.tensor.Tensor;

import java.util.function.IntPredicate;

/**
 * A layer's executor that counts its calls and otherwise runs the one it replaced, whose reuse promise it keeps
 * unless a test sets another ({@link #promise}).
 */
public final class CountingExecutor implements Linear.Executor {
    private final Linear.Executor inner;
    private int calls;
    private boolean overridden;
    private Object key;

    private CountingExecutor(Linear.Executor inner) {
        this.inner = inner;
    }

    /** Installs a counter on {@code layer} in place of its executor. */
    public static CountingExecutor install(Linear layer) {
        CountingExecutor c = new CountingExecutor(layer.executor());
        layer.setExecutor(c);
        return c;
    }

    public int calls() {
        return calls;
    }

    /** From now on {@link #reuseKey} is {@code key} (null: no promise, as an observer). */
    public void promise(Object key) {
        this.overridden = true;
        this.key = key;
    }

    @Override
    public void forward(Linear layer, Tensor x2d, Tensor out2d) {
        calls++;
        inner.forward(layer, x2d, out2d);
    }

    @Override
    public void forward(Linear layer, Tensor x2d, Tensor out2d, IntPredicate realRows) {
        calls++;
        inner.forward(layer, x2d, out2d, realRows);
    }

    @Override
    public Object reuseKey() {
        return overridden ? key : inner.reuseKey();
    }
}
