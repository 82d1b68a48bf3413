package dev.viditq.eval.shapes;

/** One prompt of a split: its position in the split, its ground-truth scene and its caption. */
public record ShapesPrompt(long index, Scene scene, String caption) {}
