// The installed @sparse/cuda-native finds the addon of its platform package and loads it: on a machine without a
// GPU its probe says "no CUDA device", not that the addon was not built.
import { cudaNative } from '@sparse/cuda-native';

const backend = cudaNative();
console.log(JSON.stringify(await backend.probe()));
await backend.dispose();
