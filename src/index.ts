/**
 * vaekit's public API, browser-safe: nothing here imports a Node builtin or a native addon
 * (the model, the plugin roles, the bounds, training, evaluation, the wasm kernels). Import it
 * from the package (`import { createVae } from 'vaekit'`), whose entry also registers the
 * built-in plugins. The Node-only parts (file data, saving to disk, PNG output, the CLI) are in
 * ./node.ts, which the package's Node entry adds.
 */
export { tf } from './core/tf.js';
export { Random, type RowShare } from './core/random.js';
export { Encoder, type EncoderSample } from './core/encoder.js';
export { Prior } from './core/prior.js';
export { Likelihood } from './core/likelihood.js';
export { FlowStep, NoInverseError, isStackedFlowStep, flowStepCount, flowStepPrefix, type FlowResult, type StackedFlowStep } from './core/flow-step.js';
export { FlowChain } from './core/flow-chain.js';
export { sampleDiagonalNormal } from './core/diagonal-normal.js';
export { KlRule, findKlRule, diagonalGaussianStandardNormalKl } from './core/kl-rule.js';
export { DIAGONAL_GAUSSIAN, diagonalGaussian, type Posterior } from './core/posterior.js';
export { prefixed, type NamedVariable, type Parametrised } from './core/variables.js';
export { LOG_2PI, logMeanExp, diagonalNormalLogProb, standardNormalLogProbOfEps, stopGradient, withoutGradient } from './core/math.js';
export {
  Objective,
  ObjectiveBuilder,
  GRADIENT_ESTIMATORS,
  isObjective,
  type GradientEstimator,
  type ObjectiveContext,
  type ObjectiveValue,
} from './core/objective.js';
export { ElboObjective, type ElboObjectiveOptions } from './core/elbo-objective.js';
export { IwaeObjective, type IwaeObjectiveOptions } from './core/iwae-objective.js';
export { elboObjectiveFactory, iwaeObjectiveFactory, objectivesModule, checkEstimator } from './config/objective-plugins.js';
export {
  Vae,
  ModelSpec,
  type BoundTerms,
  type BoundOptions,
  type TermsOptions,
  type ElboResult,
  type Part,
  PARTS,
  checkParts,
  currentWeightName,
} from './core/vae.js';
export { coreModule } from './core/core-module.js';

export { Dense, type DenseOptions } from './nn/dense.js';
export { Mlp } from './nn/mlp.js';
export { ACTIVATIONS, activate, activationSchema, hiddenSchema, type Activation } from './nn/activation.js';
export { matMul } from './nn/mat-mul.js';
export { setSpeedFixes, speedFixesSetting, wasmSpeedFixesActive } from './backend/speed-fixes.js';
export { setKernelThreads, kernelThreads, type KernelThreadsSetting } from './backend/kernel-threads.js';
export { gemmThreadStats, gemmThreadsUnavailable, stopGemmThreads } from './backend/gemm-threads.js';
export { registerHostKernel, hostKernelAvailable, runHostKernel, type HostKernel, type HostCall } from './backend/host-kernel.js';
export { HostWasm } from './backend/host-wasm.js';
export { decodeBase64 } from './backend/base64.js';

export { selectBackend, ensureBackend, selectedBackend, BACKEND_NAMES, AUTO_ORDER, type BackendName } from './backend/select-backend.js';

export {
  PluginFactory,
  definePlugin,
  definePluginModule,
  PLUGIN_ROLES,
  type PluginRole,
  type PluginSpec,
  type BuildContext,
} from './config/plugin.js';
export { PluginRegistry } from './config/plugin-registry.js';
/** inversify's ContainerModule, re-exported so a plugin file needs only `vaekit` (and uses the same inversify as the core). */
export { ContainerModule } from 'inversify';
export { ConfigError, parseWith } from './config/errors.js';
export {
  parseConfig,
  configSchema,
  modelSchema,
  dataSchema,
  trainSchema,
  evalSchema,
  type VaeConfig,
  type VaeConfigInput,
  type ModelConfig,
  type ModelConfigInput,
  type DataConfig,
  type TrainConfig,
  type EvalConfig,
} from './config/schema.js';
export { createVae, createContainer, registerBuiltinPlugins, type CreateOptions } from './config/create-vae.js';

export type { Dataset } from './data/dataset.js';
export type { ImageSetOptions, Split, Binarize } from './data/idx-images.js';
export * as linalg from './core/linalg.js';
export type { Matrix } from './core/linalg.js';
export { batches, batchCount, datasetTensor, subset, takeRows, type BatchOptions } from './data/batches.js';
export { checkFinite, checkUnitInterval, checkWidth } from './data/validate.js';
export { LinearGaussianModel, type LinearGaussianParams, type RandomLinearGaussianOptions } from './data/linear-gaussian.js';
export {
  QUADRATURE_KINDS,
  QUADRATURE_LIKELIHOOD,
  QuadratureLikelihood,
  quadratureLikelihoodFactory,
  quadratureModule,
  quadratureMean,
  quadratureLogPx,
  quadratureRows,
  quadratureDataset,
  createQuadratureVae,
  measureGaps,
  type QuadratureKind,
  type QuadratureModel,
  type GapReport,
} from './data/quadrature-model.js';

export {
  train,
  meanElbo,
  trainingLoss,
  NonFiniteLossError,
  objectiveGradients,
  GuardedStepper,
  type GradientFn,
  type TrainOptions,
  type ObjectiveSpec,
  type EpochRecord,
  type History,
  type TrainerState,
} from './train/trainer.js';

export * from './eval/index.js';

export {
  SavedModelError,
  NonFiniteWeightsError,
  nonFiniteValues,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  type ModelManifest,
} from './train/saved-model-format.js';
export { loadSavedModelFromUrl, loadVaeFromUrl, type UrlLoadOptions, type UrlLoadedModel } from './train/load-vae-from-url.js';

export {
  trainAgainstFrozenDecoder,
  withFrozenDecoder,
  frozenParts,
  decoderPriorBytes,
  changedWeights,
  type FrozenParts,
  type FrozenEncoderSpec,
  type FrozenDecoderResult,
  type FrozenDecoderOptions,
  type FrozenModelOptions,
} from './train/frozen-decoder.js';
export {
  summarizeSeeds,
  pairedDifference,
  welchDifference,
  seedDifference,
  differencesFromBaseline,
  studentTQuantile,
  studentTCdf,
  type SeedSummary,
  type SeedDifference,
  type DifferenceMethod,
} from './eval/seed-stats.js';

export { z } from 'zod';

// Types that appear in the signatures above (so the API reference can link them).
export type { RandomState } from './train/trainer.js';
export type { WasmMemory } from './backend/host-wasm.js';
export type { SetFile, WriteStage } from './train/saved-model.js';
export type { SaveCheckpointOptions } from './train/checkpoint.js';
export type { CliIo } from './cli/support.js';
export type { WeightGroupFile } from './train/saved-model.js';
export type { RowSplitRun } from './eval/row-split.js';
export type { LockOptions } from './train/run-lock.js';
export type { GuardedStepperOptions } from './train/guarded-stepper.js';
export type { Adam, AdamOptions, AdamSnapshot } from './nn/adam.js';
