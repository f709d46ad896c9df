/** Interop: NumPy {@code .npy} reading and writing (float32/float64 and integer/bool masks, C order). */
package dev.performer.io;
