package dev.viditq.bench.e2e;

import dev.viditq.core.cuda.Cuda;

/**
 * Entry point of the fresh JVM that {@link ForkedRun} starts for one measurement: runs the request given as
 * arguments ({@link E2eRequest#toArgs()}), logs progress on stderr and prints one line
 * {@code RESULT_PREFIX + json} on stdout (or {@code ERROR_PREFIX + message} and exit status 1).
 */
public final class E2eWorker {
    static final String RESULT_PREFIX = "viditq-e2e-result ";
    static final String ERROR_PREFIX = "viditq-e2e-error ";

    private E2eWorker() {}

    public static void main(String[] args) {
        try {
            if ("cuda".equals(System.getProperty("viditq.device"))) Cuda.install();
            E2eResult result = E2eBenchmark.run(E2eRequest.fromArgs(args), System.err);
            System.out.println(RESULT_PREFIX + result.toJson());
            System.out.flush();
            System.exit(0);
        } catch (Throwable e) {
            if (Boolean.getBoolean("viditq.verbose")) e.printStackTrace(System.err);
            String msg = e.getMessage() == null ? e.toString() : e.getMessage();
            System.out.println(ERROR_PREFIX + msg.replace('\n', ' '));
            System.out.flush();
            System.exit(1);
        }
    }
}
