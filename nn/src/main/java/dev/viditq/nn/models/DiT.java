package dev.viditq.nn.models;

import dev.viditq.core.io.TensorFile;
import dev.viditq.core.tensor.Tensor;
import dev.viditq.nn.layers.*;

import java.util.ArrayList;
import java.util.List;

/**
 * DiT (facebookresearch/DiT {@code models.py}), class-conditional with adaLN-Zero:
 * c = t_emb + y_emb; per block (shift, scale, gate)×2 = chunk6(Linear(SiLU(c))); final (shift, scale) likewise.
 * Config: the constructor arguments (input_size, patch_size, in_channels, hidden_size, depth, num_heads, mlp_ratio,
 * num_classes, class_dropout_prob, learn_sigma). The stored {@code pos_embed} buffer is not read: the same sincos
 * table is computed for the actual latent grid.
 */
public final class DiT extends BaseDenoiser {
    private final PatchEmbed patchEmbed;
    private final TimestepEmbedder tEmbedder;
    private final Tensor labelTable; // [classes (+1 null), H]
    private final List<Linear> blockAdaLn = new ArrayList<>();
    private final List<AdaLnSingleBlock> blocks = new ArrayList<>();
    private final FinalLayer finalLayer;

    private DiT(TensorFile file, ModelInfo info, Weights w, ModelConfig cfg) {
        super(file, info);
        int h = info.hidden(), p = info.patchSize();
        int mlpHidden = (int) (h * cfg.getDouble("mlp_ratio", 4.0));
        boolean nullClass = cfg.getDouble("class_dropout_prob", 0.1) > 0;
        patchEmbed = PatchEmbed.load2d(w, "x_embedder.proj", info.inChannels(), h, p);
        w.ignore("pos_embed");
        tEmbedder = TimestepEmbedder.load(w, "t_embedder.mlp.0", "t_embedder.mlp.2", h);
        labelTable = w.takeF32("y_embedder.embedding_table.weight", info.numClasses() + (nullClass ? 1 : 0), h);
        register(tEmbedder.linears());
        for (int i = 0; i < info.depth(); i++) {
            Linear adaLn = Linear.load(w, "blocks." + i + ".adaLN_modulation.1", h, 6 * h);
            AdaLnSingleBlock block = AdaLnSingleBlock.loadDiT(w, "blocks." + i, h, info.heads(), mlpHidden);
            blockAdaLn.add(adaLn);
            blocks.add(block);
            register(List.of(adaLn));
            register(block);
        }
        finalLayer = FinalLayer.loadAdaLnZero(w, "final_layer", h, p * p * info.outChannels());
        register(finalLayer.linears());
    }

    static DiT load(ModelConfig cfg, TensorFile file) {
        int in = cfg.getInt("in_channels", 4);
        boolean learnSigma = cfg.getBool("learn_sigma", true);
        int inputSize = cfg.getInt("input_size", 32);
        ModelInfo info = ModelInfo.builder(ModelFamily.DIT).inChannels(in).outChannels(learnSigma ? 2 * in : in)
                .patchSize(cfg.getInt("patch_size", 2)).sampleSize(inputSize).hidden(cfg.getInt("hidden_size"))
                .depth(cfg.getInt("depth")).heads(cfg.getInt("num_heads")).numClasses(cfg.getInt("num_classes", 1000))
                .build();
        Weights w = new Weights(file);
        DiT model = new DiT(file, info, w, cfg);
        w.finish();
        return model;
    }

    @Override
    public Tensor forward(Tensor x, Tensor timesteps, Conditioning cond) {
        Tensor xf = checkLatent(x);
        PatchEmbed.Grid grid = patchEmbed.grid(xf);
        int batch = grid.batch(), h = info().hidden();
        Tensor tokens = patchEmbed.forward(xf);
        Rows.addTableRows(tokens, table("pos " + grid.gh() + "x" + grid.gw(), () -> SinCos.grid2d(h, grid.gh(), grid.gw(), Double.NaN, 1.0)), h,
                r -> r % grid.tokensPerFrame());

        Tensor c = tEmbedder.embed(Inputs.timesteps(timesteps, batch));
        Rows.addInPlace(c, labelEmbeddings(Inputs.labels(cond.classLabels(), batch, labelTable.size(0))));
        Tensor siluC = Rows.silu(c);
        Sequences seqs = Sequences.whole(batch, grid.tokensPerFrame());
        for (int i = 0; i < blocks.size(); i++) {
            Modulation mod = Modulation.chunks(blockAdaLn.get(i).forward(siluC), 6);
            blocks.get(i).forward(tokens, mod, seqs, batch, null, CaptionMask.none());
        }
        Tensor out = finalLayer.forward(tokens, c);
        return PatchEmbed.unpatchify(out, grid, info().patchSize(), info().outChannels(), false);
    }

    private Tensor labelEmbeddings(int[] labels) {
        int h = info().hidden();
        Tensor out = Tensor.zeros(labels.length, h);
        for (int b = 0; b < labels.length; b++) {
            out.data().asSlice((long) b * h * Float.BYTES, (long) h * Float.BYTES)
                    .copyFrom(labelTable.data().asSlice((long) labels[b] * h * Float.BYTES, (long) h * Float.BYTES));
        }
        return out;
    }
}
