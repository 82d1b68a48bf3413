package dev.viditq.core.io;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.viditq.core.tensor.Tensor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.*;
import java.util.function.Function;

/**
 * A checkpoint split into shards by the Hugging Face convention ({@code model.safetensors.index.json}:
 * {@code {"metadata": {...}, "weight_map": {"tensor name": "shard file name"}}}), seen as one {@link TensorFile}.
 * Shards are opened (mapped) together and checked to hold every tensor the index gives them; tensors a shard
 * holds beyond its index entries are not exposed.
 */
public final class ShardedCheckpoint implements TensorFile {
    private final Path index;
    private final LinkedHashMap<String, TensorFile> owner;
    private final List<TensorFile> shards;
    private final Map<String, String> metadata;

    private ShardedCheckpoint(Path index, LinkedHashMap<String, TensorFile> owner, List<TensorFile> shards,
                              Map<String, String> metadata) {
        this.index = index;
        this.owner = owner;
        this.shards = shards;
        this.metadata = metadata;
    }

    /**
     * @param openShard opens one shard file (the caller's format dispatch: safetensors or pickle shards)
     */
    public static ShardedCheckpoint open(Path index, Function<Path, TensorFile> openShard) {
        CheckpointFiles.requireReadableFile(index);
        JsonNode root = readIndex(index);
        JsonNode weightMap = root.get("weight_map");
        if (weightMap == null || !weightMap.isObject() || weightMap.isEmpty()) {
            throw new CheckpointException(index, "has no \"weight_map\" object naming the shard of each tensor");
        }
        Map<String, TensorFile> byShardName = new LinkedHashMap<>();
        LinkedHashMap<String, TensorFile> owner = new LinkedHashMap<>();
        try {
            for (Map.Entry<String, JsonNode> e : weightMap.properties()) {
                String shard = shardName(index, e.getKey(), e.getValue());
                TensorFile file = byShardName.computeIfAbsent(shard, s -> openShard.apply(index.resolveSibling(s)));
                if (!file.contains(e.getKey())) {
                    throw CheckpointException.tensor(index, e.getKey(), "is not in its shard " + shard);
                }
                owner.put(e.getKey(), file);
            }
        } catch (RuntimeException | Error e) {
            byShardName.values().forEach(TensorFile::close);
            throw e;
        }
        return new ShardedCheckpoint(index, owner, List.copyOf(byShardName.values()), readMetadata(root.get("metadata")));
    }

    private static JsonNode readIndex(Path index) {
        try {
            JsonNode root = StrictJson.MAPPER.readTree(Files.readAllBytes(index));
            if (root == null || !root.isObject()) throw new CheckpointException(index, "is not a JSON object");
            return root;
        } catch (JacksonException e) {
            throw new CheckpointException(index, "is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new CheckpointException(index, "cannot read: " + e.getMessage(), e);
        }
    }

    /** The shard's file name, which must sit beside the index (a bare name, as the convention has it). */
    private static String shardName(Path index, String tensor, JsonNode value) {
        String shard = value.isTextual() ? value.textValue() : "";
        if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals("..")
                || shard.endsWith(".index.json")) {
            throw CheckpointException.tensor(index, tensor, "has shard " + value + ", expected a file name beside the index");
        }
        return shard;
    }

    private static Map<String, String> readMetadata(JsonNode meta) {
        Map<String, String> out = new LinkedHashMap<>();
        if (meta != null && meta.isObject()) {
            meta.properties().forEach(m -> out.put(m.getKey(), m.getValue().isTextual() ? m.getValue().textValue() : m.getValue().toString()));
        }
        return Collections.unmodifiableMap(out);
    }

    @Override public Path path() { return index; }
    @Override public Set<String> names() { return Collections.unmodifiableSet(owner.keySet()); }
    @Override public Map<String, String> metadata() { return metadata; }

    /** The shards, in the order the index first names them. */
    public List<TensorFile> shards() { return shards; }

    @Override
    public Tensor get(String name) {
        TensorFile file = owner.get(name);
        if (file == null) throw new CheckpointException(index, "no tensor named '" + name + "'");
        return file.get(name);
    }

    @Override
    public void close() {
        shards.forEach(TensorFile::close);
    }
}
