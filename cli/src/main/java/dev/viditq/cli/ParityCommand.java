package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.nn.parity.Parity;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "parity", description = "Run every golden case folder against the official outputs; exit 1 if any "
        + "exceeds its tolerance (1e-4 networks, 1e-5 sampler trajectories).%n"
        + "Example: ./viditq parity --golden ../shared/golden --json")
final class ParityCommand implements Callable<Integer> {
    @Option(names = "--golden", required = true, description = "Directory of case folders (layout of ../shared/golden).")
    Path golden;

    @Option(names = "--json", description = "Print {\"cases\": [{name, output, rel_err, pass}], \"pass\"} on stdout.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        List<Parity.Result> results = Parity.runAll(golden);
        boolean all = !results.isEmpty() && results.stream().allMatch(Parity.Result::pass);
        if (json) {
            ObjectNode o = Json.object();
            ArrayNode cases = o.putArray("cases");
            for (Parity.Result r : results) {
                ObjectNode c = cases.addObject();
                c.put("name", r.caseName());
                c.put("output", r.output());
                if (Double.isNaN(r.relErr())) c.putNull("rel_err"); else c.put("rel_err", r.relErr());
                c.put("pass", r.pass());
                if (r.error() != null) c.put("error", r.error());
            }
            o.put("pass", all);
            Json.print(o);
        } else {
            System.out.printf("%-24s %-24s %12s %s%n", "case", "output", "rel_err", "result");
            for (Parity.Result r : results) {
                System.out.printf("%-24s %-24s %12.3e %s%n", r.caseName(), r.output(), r.relErr(),
                        r.pass() ? "pass" : "FAIL" + (r.error() != null ? " (" + r.error() + ")" : ""));
            }
            System.out.println(all ? "all cases pass" : "some cases FAIL");
        }
        return all ? 0 : 1;
    }
}
