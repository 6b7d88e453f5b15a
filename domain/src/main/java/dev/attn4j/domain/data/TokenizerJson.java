package dev.attn4j.domain.data;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.attn4j.ports.InvalidRequestException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;

/**
 * What the Rust library behind DJL does not expose but the data layer needs, read from the
 * {@code tokenizer.json} itself: the id of each token (to resolve special tokens by name) and the size of
 * the id space. The vocabulary is {@code model.vocab}, an object {@code token -> id} for BPE, WordPiece
 * and WordLevel models or an array of {@code [piece, score]} pairs (id = index) for Unigram, plus
 * {@code added_tokens} ({@code {"id", "content", "special"}}), which win over the model's entries.
 */
record TokenizerJson(Map<String, Integer> ids, Set<Integer> specialIds, int vocabSize) {

    static final ObjectMapper MAPPER = new ObjectMapper();

    static TokenizerJson read(Path file) throws IOException {
        JsonNode root;
        try {
            root = MAPPER.readTree(file.toFile());
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new InvalidRequestException("tokenizer", "a tokenizer.json file (valid JSON)",
                    file + ": " + e.getOriginalMessage());
        }
        InvalidRequestException.check(root != null && root.isObject(), "tokenizer", "a JSON object in " + file,
                root == null ? "an empty file" : root.getNodeType());
        Map<String, Integer> ids = new HashMap<>();
        long maxId = -1;
        JsonNode vocab = root.path("model").path("vocab");
        if (vocab.isObject()) {
            for (Map.Entry<String, JsonNode> e : vocab.properties()) {
                int id = id(file, "model.vocab[" + e.getKey() + "]", e.getValue());
                ids.put(e.getKey(), id);
                maxId = Math.max(maxId, id);
            }
        } else if (vocab.isArray()) {
            for (int k = 0; k < vocab.size(); k++) {
                JsonNode piece = vocab.get(k);
                InvalidRequestException.check(piece.isArray() && piece.size() >= 1 && piece.get(0).isTextual(),
                        "tokenizer", "model.vocab[" + k + "] as [piece, score] in " + file, piece);
                ids.putIfAbsent(piece.get(0).asText(), k);
                maxId = k;
            }
        } else {
            throw new InvalidRequestException("tokenizer", "model.vocab (an object or an array) in " + file,
                    vocab.isMissingNode() ? "none" : vocab.getNodeType());
        }
        Set<Integer> special = new HashSet<>();
        for (JsonNode added : root.path("added_tokens")) {
            InvalidRequestException.check(added.path("content").isTextual(), "tokenizer",
                    "added_tokens entries with a content string in " + file, added);
            int id = id(file, "added_tokens[" + added.get("content").asText() + "]", added.path("id"));
            ids.put(added.get("content").asText(), id);
            if (added.path("special").asBoolean(false)) {
                special.add(id);
            }
            maxId = Math.max(maxId, id);
        }
        InvalidRequestException.check(maxId >= 0, "tokenizer", "at least one token in " + file, "none");
        return new TokenizerJson(Map.copyOf(ids), Set.copyOf(special), Math.toIntExact(maxId + 1));
    }

    private static int id(Path file, String where, JsonNode node) {
        InvalidRequestException.check(node.canConvertToInt() && node.isIntegralNumber() && node.asInt() >= 0,
                "tokenizer", "an id >= 0 at " + where + " in " + file, node);
        return node.asInt();
    }

    /**
     * The special token names declared in {@code tokenizer_config.json} beside the file, as Hugging Face
     * writes them: {@code "eos_token": "</s>"} or {@code "eos_token": {"content": "</s>", ...}}; an explicit
     * {@code null} is kept as {@code ""} (the model has none), an absent key as no entry.
     */
    static Map<String, String> configSpecialTokens(Path tokenizerJson) throws IOException {
        Path dir = tokenizerJson.toAbsolutePath().getParent();
        Path config = dir == null ? null : dir.resolve("tokenizer_config.json");
        Map<String, String> out = new HashMap<>();
        if (config == null || !Files.isRegularFile(config)) {
            return out;
        }
        JsonNode root = MAPPER.readTree(config.toFile());
        for (String key : new String[] {"bos_token", "eos_token", "pad_token"}) {
            if (root == null || !root.has(key)) {
                continue;
            }
            JsonNode v = root.get(key);
            if (v.isNull()) {
                out.put(key, "");
            } else if (v.isTextual()) {
                out.put(key, v.asText());
            } else if (v.path("content").isTextual()) {
                out.put(key, v.get("content").asText());
            }
        }
        return out;
    }
}
