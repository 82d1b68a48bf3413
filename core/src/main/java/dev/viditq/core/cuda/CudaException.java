package dev.viditq.core.cuda;

/** A CUDA driver or cuBLASLt call that returned an error, named with its status. */
public final class CudaException extends RuntimeException {
    public CudaException(String message) {
        super(message);
    }
}
