package dev.viditq.core.kernels.quant;

/** Task i of a GEMM call computes output rows [rowStart(i), rowEnd(i)) × columns [colStart(i), colEnd(i, n)). */
interface TaskSplit {
    int tasks();

    int rowStart(int task);

    int rowEnd(int task);

    int colStart(int task);

    int colEnd(int task, int n);
}
