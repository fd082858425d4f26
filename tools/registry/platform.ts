/** The per-platform package of @sparse/cuda-native that this repository builds and publishes. */
export const PLATFORM_PACKAGE = '@sparse/cuda-native-linux-x64-gnu';
