/**
 * The data path of every kind: a streaming FASTA reader (plain or gzip, multi-line records), IDX
 * and PNG images as pixel sequences ({@link dev.performer.data.Images}), raw bytes, the
 * {@link dev.performer.data.Tokenizer} of each kind (the paper's 25 amino-acid letters, 256 grey
 * levels, 256 bytes, after the special tokens), a deterministic train/validation split by a seeded
 * hash of the record id, and batching for masked (bidirectional) and next-token (causal) language
 * modelling ({@link dev.performer.data.SequenceData}).
 */
package dev.performer.data;
