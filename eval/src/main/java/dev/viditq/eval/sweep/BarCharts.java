package dev.viditq.eval.sweep;

import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.CategorySeries;
import org.knowm.xchart.style.Styler;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collections;
import java.util.List;

/** Bar charts of one metric per setting (XChart), as PNG bytes for the report. */
final class BarCharts {
    private static final int WIDTH = 720, HEIGHT = 360;

    private BarCharts() {}

    /**
     * @param bar a horizontal line drawn at this value across the settings (a quality bar), or NaN for none
     */
    static byte[] png(String title, String yAxis, List<String> settings, List<Double> values, double bar, String barLabel) {
        System.setProperty("java.awt.headless", "true");
        CategoryChart chart = new CategoryChartBuilder().width(WIDTH).height(HEIGHT).title(title).xAxisTitle("setting").yAxisTitle(yAxis).build();
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS);
        chart.getStyler().setLegendVisible(!Double.isNaN(bar));
        chart.getStyler().setChartBackgroundColor(java.awt.Color.WHITE);
        chart.getStyler().setXAxisLabelRotation(30);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setLabelsFontColorAutomaticEnabled(false);
        chart.getStyler().setLabelsFontColor(java.awt.Color.BLACK);
        chart.getStyler().setDecimalPattern("#0.00");
        chart.getStyler().setOverlapped(true);
        chart.addSeries(title, settings, values);
        if (!Double.isNaN(bar)) {
            chart.addSeries(barLabel, settings, Collections.nCopies(settings.size(), bar))
                    .setChartCategorySeriesRenderStyle(CategorySeries.CategorySeriesRenderStyle.Line);
        }
        try {
            return BitmapEncoder.getBitmapBytes(chart, BitmapEncoder.BitmapFormat.PNG);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot render the chart '" + title + "': " + e.getMessage(), e);
        }
    }
}
