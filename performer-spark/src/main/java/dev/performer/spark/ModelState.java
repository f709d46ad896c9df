package dev.performer.spark;

import dev.performer.io.RecordMetadata;
import dev.performer.kernel.Kernels;
import dev.performer.model.ModelConfig;
import dev.performer.model.PerformerModel;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What an executor needs to rebuild a model: its configuration (as a checkpoint's {@code model.*}
 * metadata), its parameters and its FAVOR+ projections. Broadcast from the driver, so an executor
 * JVM deserializes it once however many tasks use it.
 */
public final class ModelState implements Serializable {
    private static final long serialVersionUID = 1L;

    private final LinkedHashMap<String, String> config;
    private final float[] params;
    private final float[][] projections;   // [layer], null where a layer has none

    private ModelState(LinkedHashMap<String, String> config, float[] params, float[][] projections) {
        this.config = config;
        this.params = params;
        this.projections = projections;
    }

    /** A copy of the model's state now. */
    public static ModelState of(PerformerModel m) {
        LinkedHashMap<String, String> c = new LinkedHashMap<>();
        RecordMetadata.write("model", m.config(), c);
        int layers = m.config().layers();
        float[][] w = new float[layers][];
        for (int l = 0; l < layers; l++) {
            float[] p = m.projection(l);
            w[l] = p == null ? null : p.clone();
        }
        return new ModelState(c, m.params().clone(), w);
    }

    /** The configuration, read back. */
    public ModelConfig config() {
        try {
            return RecordMetadata.read("model", ModelConfig.class, config, "the driver's model state");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A key naming the architecture (equal keys: models that can take each other's state). */
    String key() { return config.toString(); }

    Map<String, String> configMetadata() { return config; }

    /** The parameters (read only). */
    float[] params() { return params; }

    /** A new model with this state, computing with kern. */
    public PerformerModel build(Kernels kern) {
        PerformerModel m = new PerformerModel(config(), kern, 0);
        loadInto(m);
        return m;
    }

    /** Copies this state into a model of the same architecture. */
    public void loadInto(PerformerModel m) {
        if (m.params().length != params.length)
            throw new IllegalArgumentException("a model of " + m.params().length + " parameters cannot take a state of "
                    + params.length);
        System.arraycopy(params, 0, m.params(), 0, params.length);
        for (int l = 0; l < projections.length; l++) if (projections[l] != null) m.setProjection(l, projections[l]);
    }
}
