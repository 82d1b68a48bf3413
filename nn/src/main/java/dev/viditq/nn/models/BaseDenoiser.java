package dev.viditq.nn.models;

import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.AdaLnSingleBlock;
import dev.viditq.nn.layers.InputScaling;
import dev.viditq.nn.layers.Linear;
import dev.viditq.nn.layers.SharedInput;

import java.util.Collection;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/** What every family shares: the open checkpoint, the info, the named linears and the checks of x. */
abstract class BaseDenoiser implements Denoiser {
    private final TensorFile file;
    private final ModelInfo info;
    private final Map<String, Linear> linears = new LinkedHashMap<>();
    private final Map<String, float[]> tables = new ConcurrentHashMap<>();
    private final List<InputScaling> inputScalings = new ArrayList<>();
    private final List<SharedInput> sharedInputs = new ArrayList<>();

    BaseDenoiser(TensorFile file, ModelInfo info) {
        this.file = file;
        this.info = info;
    }

    @Override
    public final ModelInfo info() {
        return info;
    }

    @Override
    public final Map<String, Linear> linears() {
        return Collections.unmodifiableMap(linears);
    }

    /** Adds linears in execution order; a name given twice is a bug in the family's code. */
    final void register(Collection<Linear> layers) {
        for (Linear l : layers) {
            if (linears.put(l.name(), l) != null) throw new IllegalStateException("linear " + l.name() + " registered twice");
        }
    }

    /** Adds a block's linears, its {@link InputScaling folding seams} and its {@link SharedInput shared inputs}. */
    final void register(AdaLnSingleBlock block) {
        register(block.linears());
        inputScalings.addAll(block.inputScalings());
        registerSharedInputs(block.sharedInputs());
    }

    /** Adds groups of Linears reading one input, of a block that is not an {@link AdaLnSingleBlock}; members registered first. */
    final void registerSharedInputs(Collection<SharedInput> groups) {
        for (SharedInput g : groups) {
            for (Linear l : g.members()) {
                if (linears.get(l.name()) != l) throw new IllegalStateException(g.name() + ": member " + l.name() + " is not a registered linear");
            }
        }
        sharedInputs.addAll(groups);
    }

    @Override
    public final List<SharedInput> sharedInputs() {
        return Collections.unmodifiableList(sharedInputs);
    }

    /** Adds folding seams of a block that is not an {@link AdaLnSingleBlock}, in execution order. */
    final void registerInputScalings(Collection<InputScaling> seams) {
        inputScalings.addAll(seams);
    }

    @Override
    public final List<InputScaling> inputScalings() {
        return Collections.unmodifiableList(inputScalings);
    }

    /** Checks x against the model: rank (image or video) and channels; returns it as F32. */
    final Tensor checkLatent(Tensor x) {
        int rank = info.video() ? 5 : 4;
        if (x.rank() != rank) {
            throw new IllegalArgumentException(info.family() + " takes x as " + (info.video() ? "[B, C, T, H, W]" : "[B, C, H, W]")
                    + ", got " + x);
        }
        if (x.dim(1) != info.inChannels()) {
            throw new IllegalArgumentException(info.family() + " takes " + info.inChannels() + " latent channels, x is " + x);
        }
        return x.toF32();
    }

    /**
     * A fixed table (positional embedding) computed once per key: a sampling loop calls forward with the same
     * sizes at every step.
     */
    final float[] table(String key, Supplier<float[]> compute) {
        return tables.computeIfAbsent(key, k -> compute.get());
    }

    @Override
    public void close() {
        file.close();
    }
}
