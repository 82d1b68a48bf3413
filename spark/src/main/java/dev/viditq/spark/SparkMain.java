package dev.viditq.spark;

import dev.viditq.cli.Main;

/**
 * The entry point of the viditq-spark jar ({@code spark-submit --class dev.viditq.spark.SparkMain}): the ./viditq commands,
 * with the Spark module on the class path so that {@code --spark MASTER} finds it.
 */
public final class SparkMain {
    private SparkMain() {}

    public static void main(String[] args) {
        System.exit(Main.execute(args));
    }
}
