import { z } from 'zod';
import { tf } from '../core/tf.js';

export const ACTIVATIONS = ['tanh', 'relu', 'elu', 'softplus', 'sigmoid', 'leaky-relu', 'linear'] as const;
export type Activation = (typeof ACTIVATIONS)[number];
export const activationSchema = z.enum(ACTIVATIONS);

export function activate(x: tf.Tensor, a: Activation): tf.Tensor {
  switch (a) {
    case 'tanh':
      return tf.tanh(x);
    case 'relu':
      return tf.relu(x);
    case 'elu':
      return tf.elu(x);
    case 'softplus':
      return tf.softplus(x);
    case 'sigmoid':
      return tf.sigmoid(x);
    case 'leaky-relu':
      return tf.leakyRelu(x, 0.01);
    case 'linear':
      return x;
  }
}

/** Hidden layer sizes of an MLP: `[]` for a linear map. */
export const hiddenSchema = z.array(z.number().int().positive());
