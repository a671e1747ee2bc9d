/**
 * The classifier worker's code: plain CommonJS passed as text so it runs the same from sources (tests) and from dist/.
 *
 * It loads TensorFlow.js on its WebAssembly backend (the .wasm files ship inside the npm package; nothing is
 * downloaded or compiled at install; Node has WebAssembly SIMD, so the backend picks tfjs-backend-wasm-simd.wasm,
 * three times faster than the plain binary here, and some 17 times faster than the pure-JavaScript CPU backend) and
 * the model bundled in nsfwjs, then runs that model as a folded network of fused TensorFlow.js ops instead of
 * through its Keras layers:
 * - each BatchNormalization is folded into the convolution before it (kernel × γ/√(σ²+ε), bias β − μ·γ/√(σ²+ε)):
 *   as layers, the 52 batch norms took as long as all the convolutions;
 * - each ReLU / ReLU6 becomes the fused activation of that convolution, and each ZeroPadding2D its explicit padding;
 * - Dropout and Flatten are no-ops at inference; the input is scaled to 0 … 1 once, while it is copied to floats.
 * At load the folded network classifies a test pattern next to nsfwjs's own `classify` and must agree with it class
 * by class (|Δ| < 1e-3): that checks the folding and the order of the classes, and compiles every kernel before the
 * first real image.
 *
 * Messages: in `{ id, pixels, side }` (side × side RGB bytes); out `{ id, probabilities }` in `workerData.classes`
 * order, or `{ id, error }`. At load: `{ ready: runtime }` or `{ failed: reason }`.
 */
export const CLASSIFIER_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
console.info = () => {}; // nsfwjs announces the model it loads
const tf = require(workerData.tfjs);
require(workerData.wasm); // registers the 'wasm' backend
const nsfwjs = require(workerData.nsfwjs);
tf.enableProdMode(); // skips debug checks

const CONVOLUTIONS = new Set(['conv', 'depthwise']);
/** Activations TensorFlow.js fuses into a convolution or a matrix product. */
const FUSED = new Set(['linear', 'relu', 'relu6', 'elu', 'sigmoid']);

/** The layers of a Keras model as steps { name, op, inputs, …weights }, in the model's (topological) order. */
function stepsOf(model) {
  const steps = new Map();
  for (const layer of model.layers) {
    const kind = layer.getClassName();
    const activation = layer.activation ? layer.activation.getClassName() : 'linear';
    const unsupported = (what) => new Error('layer ' + layer.name + ' (' + kind + ') ' + what + '; the folded network cannot run it');
    if (layer.inboundNodes.length !== 1) throw unsupported('is shared');
    const inputs = layer.inboundNodes[0].inboundLayers.map((l) => l.name);
    if (layer.dataFormat && layer.dataFormat !== 'channelsLast') throw unsupported('is channels-first');
    if (kind === 'BatchNormalization' && layer.axis !== -1 && layer.axis !== 3) throw unsupported('normalises axis ' + layer.axis);
    if ((kind === 'Conv2D' || kind === 'DepthwiseConv2D') && !FUSED.has(activation)) throw unsupported('has activation ' + activation);
    const copy = (v) => (v ? v.read().clone() : undefined); // the layers model is disposed once folded
    const s = { name: layer.name, inputs };
    if (kind === 'InputLayer') s.op = 'input';
    else if (kind === 'Dropout') s.op = 'identity';
    else if (kind === 'Flatten') s.op = 'flatten';
    else if (kind === 'Add') s.op = 'add';
    else if (kind === 'Conv2D' || kind === 'DepthwiseConv2D')
      Object.assign(s, {
        op: kind === 'Conv2D' ? 'conv' : 'depthwise',
        kernel: copy(kind === 'Conv2D' ? layer.kernel : layer.depthwiseKernel),
        bias: layer.useBias ? copy(layer.bias) : undefined,
        strides: layer.strides,
        pad: layer.padding,
        dilations: layer.dilationRate,
        activation,
      });
    else if (kind === 'BatchNormalization')
      Object.assign(s, {
        op: 'batchnorm',
        gamma: copy(layer.gamma),
        beta: copy(layer.beta),
        mean: copy(layer.movingMean),
        variance: copy(layer.movingVariance),
        epsilon: layer.epsilon,
      });
    else if (kind === 'ReLU') Object.assign(s, { op: 'relu', max: layer.maxValue });
    else if (kind === 'ZeroPadding2D') Object.assign(s, { op: 'pad', padding: layer.padding });
    else if (kind === 'AveragePooling2D') Object.assign(s, { op: 'avgpool', pool: layer.poolSize, strides: layer.strides, pad: layer.padding });
    else if (kind === 'Dense') Object.assign(s, { op: 'dense', kernel: copy(layer.kernel), bias: layer.useBias ? copy(layer.bias) : undefined, activation });
    else throw unsupported('has no folded equivalent');
    steps.set(s.name, s);
  }
  return steps;
}

/** Folds batch norms, ReLUs and paddings into the convolutions they follow or precede (see above). */
function fold(steps) {
  const readers = new Map();
  for (const s of steps.values()) for (const i of s.inputs) readers.set(i, (readers.get(i) || 0) + 1);
  const renamed = new Map();
  const current = (name) => (renamed.has(name) ? current(renamed.get(name)) : name);
  const merge = (s, into) => {
    renamed.set(s.name, into.name);
    readers.set(into.name, readers.get(s.name) || 0);
    steps.delete(s.name);
  };
  for (const s of steps.values()) {
    s.inputs = s.inputs.map(current);
    const before = steps.get(s.inputs[0]);
    const foldable = before && CONVOLUTIONS.has(before.op) && before.activation === 'linear' && readers.get(before.name) === 1;
    if (s.op === 'identity') merge(s, before);
    else if (s.op === 'batchnorm' && foldable) {
      const folded = tf.tidy(() => {
        const scale = (s.gamma || tf.onesLike(s.mean)).div(s.variance.add(s.epsilon).sqrt());
        const shift = (s.beta || tf.zerosLike(s.mean)).sub(s.mean.mul(scale));
        const [, , inputs, multiplier] = before.kernel.shape;
        const kernel = before.kernel.mul(before.op === 'conv' ? scale : scale.reshape([inputs, multiplier]));
        return { kernel, bias: before.bias ? before.bias.mul(scale).add(shift) : shift };
      });
      tf.dispose([before.kernel, before.bias, s.gamma, s.beta, s.mean, s.variance]);
      Object.assign(before, folded);
      merge(s, before);
    } else if (s.op === 'relu' && foldable && (s.max == null || s.max === 6)) {
      before.activation = s.max === 6 ? 'relu6' : 'relu';
      merge(s, before);
    }
  }
  for (const s of steps.values()) {
    const before = steps.get(s.inputs[0]);
    if (CONVOLUTIONS.has(s.op) && s.pad === 'valid' && before && before.op === 'pad' && readers.get(before.name) === 1) {
      s.pad = [[0, 0], before.padding[0], before.padding[1], [0, 0]];
      s.inputs = before.inputs;
      steps.delete(before.name);
    }
  }
  return [...steps.values()];
}

/** Compiles the model into a function from a [1, h, w, 3] float tensor (0 … 1) to its output tensor. */
function compile(model) {
  if (model.outputLayers.length !== 1 || model.outputLayers[0] !== model.layers[model.layers.length - 1])
    throw new Error('the folded network takes a model whose last layer is its one output');
  const plan = fold(stepsOf(model));
  const output = plan[plan.length - 1].name;
  const run = (s, x) => {
    const a = x[0];
    switch (s.op) {
      case 'input': return a;
      case 'conv': return tf.fused.conv2d({ x: a, filter: s.kernel, strides: s.strides, pad: s.pad, dilations: s.dilations, bias: s.bias, activation: s.activation });
      case 'depthwise': return tf.fused.depthwiseConv2d({ x: a, filter: s.kernel, strides: s.strides, pad: s.pad, dilations: s.dilations, bias: s.bias, activation: s.activation });
      case 'batchnorm': return tf.batchNorm(a, s.mean, s.variance, s.beta, s.gamma, s.epsilon);
      case 'relu': return s.max == null ? tf.relu(a) : tf.clipByValue(tf.relu(a), 0, s.max);
      case 'pad': return tf.pad(a, [[0, 0], s.padding[0], s.padding[1], [0, 0]]);
      case 'add': return x.reduce((p, q) => tf.add(p, q));
      case 'avgpool': return tf.avgPool(a, s.pool, s.strides, s.pad);
      case 'flatten': return a.reshape([a.shape[0], -1]);
      case 'dense': {
        const fused = FUSED.has(s.activation);
        const y = tf.fused.matMul({ a, b: s.kernel, bias: s.bias, activation: fused ? s.activation : 'linear' });
        if (fused) return y;
        if (s.activation === 'softmax') return tf.softmax(y);
        throw new Error('dense layer ' + s.name + ' has activation ' + s.activation + '; the folded network cannot run it');
      }
    }
  };
  return (input) =>
    tf.tidy(() => {
      const values = new Map();
      for (const s of plan) values.set(s.name, run(s, s.op === 'input' ? [input] : s.inputs.map((n) => values.get(n))));
      return values.get(output);
    });
}

/** side × side RGB bytes → [1, side, side, 3] floats 0 … 1 (the scaling nsfwjs does as a tensor op). */
function inputOf(pixels, side) {
  const floats = new Float32Array(pixels.length);
  for (let i = 0; i < pixels.length; i++) floats[i] = pixels[i] / 255;
  return tf.tensor4d(floats, [1, side, side, 3]);
}

const model = (async () => {
  if (!(await tf.setBackend('wasm'))) throw new Error('the TensorFlow.js WebAssembly backend did not initialise');
  await tf.ready();
  const loaded = await nsfwjs.load(workerData.model);
  const predict = compile(loaded.model);
  const side = loaded.options.size;
  const pattern = Uint8Array.from({ length: side * side * 3 }, (_, i) => (i * 7 + (i >> 9)) & 255);
  const input = inputOf(pattern, side);
  const bytes = tf.tensor3d(pattern, [side, side, 3], 'int32');
  const output = predict(input);
  try {
    const expected = await loaded.classify(bytes, workerData.classes.length);
    const got = await output.data();
    for (const { className, probability } of expected) {
      const index = workerData.classes.indexOf(className.toLowerCase());
      if (index < 0 || !(Math.abs(got[index] - probability) < 1e-3))
        throw new Error('the folded network disagrees with nsfwjs on ' + className + ': ' + got[index] + ' against ' + probability);
    }
  } finally {
    tf.dispose([input, bytes, output]);
    loaded.dispose(); // the folded network holds its own copies of the weights
  }
  return { predict, side };
})();
model.then(
  () => parentPort.postMessage({ ready: 'tfjs-' + tf.version.tfjs + '-' + tf.getBackend() }),
  (e) => parentPort.postMessage({ failed: String((e && e.stack) || e) }),
);
parentPort.on('message', async ({ id, pixels, side }) => {
  try {
    const m = await model;
    if (side !== m.side) throw new Error('the model takes ' + m.side + '² images, not ' + side + '²');
    let input, output;
    try {
      input = inputOf(pixels, side);
      output = m.predict(input);
      parentPort.postMessage({ id, probabilities: Array.from(await output.data()) });
    } finally {
      tf.dispose([input, output]);
    }
  } catch (e) {
    parentPort.postMessage({ id, error: String((e && e.stack) || e) });
  }
});
`;
