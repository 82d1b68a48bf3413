package dev.viditq.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.viditq.core.io.SafeOutput;
import dev.viditq.eval.sweep.SweepReport;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "report", mixinStandardHelpOptions = true, description = {
        "One self-contained HTML page (images embedded) over ./viditq sweep run directories: each run's metric tables and "
                + "quality bars, bar charts of alignment and PSNR per setting, the plots in the run directory (*.png, plots/), "
                + "float beside every setting on the same prompts, and the contact sheets; --sensitivity adds every *.png of "
                + "those directories (heat maps of ./viditq sensitivity).",
        "Examples:",
        "  ./viditq report --runs out/sweep-t2i out/sweep-t2v --out out/report.html",
        "  ./viditq report --runs out/sweep-t2i --sensitivity out/sens-t2i --out out/report.html"})
final class ReportCommand implements Callable<Integer> {
    @Option(names = "--runs", arity = "1..*", paramLabel = "RUNDIR", description = "Sweep run directories (with summary.json).")
    List<Path> runs = List.of();

    @Option(names = "--sensitivity", arity = "1..*", paramLabel = "DIR", description = "Directories whose *.png plots are embedded.")
    List<Path> sensitivity = List.of();

    @Option(names = "--rows", defaultValue = "16", description = "Prompts shown side by side per run (default ${DEFAULT-VALUE}).")
    int rows;

    @Option(names = "--out", required = true, description = "HTML file to write.")
    Path out;

    @Option(names = "--json", description = "Print {out, bytes, runs, images} as JSON on stdout.")
    boolean json;

    @Override
    public Integer call() {
        SafeOutput.checkFile(out, OutputPolicy.force);
        SweepReport.Written w = SweepReport.write(new SweepReport.Request(runs, sensitivity, out, rows));
        if (json) {
            ObjectNode o = Json.object();
            o.put("out", w.file().toString());
            o.put("bytes", w.bytes());
            o.put("runs", w.runs());
            o.put("images", w.images());
            Json.print(o);
        } else {
            System.err.printf("wrote %s (%.1f KiB, %d run(s), %d images embedded)%n", w.file(), w.bytes() / 1024.0, w.runs(), w.images());
        }
        return 0;
    }
}
