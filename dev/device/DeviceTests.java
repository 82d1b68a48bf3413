import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.engine.discovery.DiscoverySelectors;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

import java.io.PrintWriter;
import java.util.Arrays;

/**
 * Runs JUnit test classes on a machine without Maven (the device machine of dev/make-devcarry): prints every
 * failure and every skip with its reason, then the summary; exits 1 when a test failed.
 *   java -cp tests/*:viditq.jar:tests/classes DeviceTests dev.viditq.core.kernels.quant.GemmDifferentialTest ...
 */
public final class DeviceTests {
    public static void main(String[] args) {
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(Arrays.stream(args).map(DiscoverySelectors::selectClass).toList()).build();
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        TestExecutionListener report = new TestExecutionListener() {
            @Override
            public void executionSkipped(TestIdentifier test, String reason) {
                System.out.println("SKIPPED " + test.getDisplayName() + ": " + reason);
            }

            @Override
            public void executionFinished(TestIdentifier test, TestExecutionResult result) {
                if (result.getStatus() != TestExecutionResult.Status.SUCCESSFUL && test.isTest()) {
                    System.out.println(result.getStatus() + " " + test.getDisplayName() + ": "
                            + result.getThrowable().map(Throwable::toString).orElse(""));
                }
            }
        };
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, summary, report);
        summary.getSummary().printTo(new PrintWriter(System.out));
        System.exit(summary.getSummary().getTotalFailureCount() == 0 ? 0 : 1);
    }
}
