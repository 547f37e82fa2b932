// swift-tools-version: 6.0
// swift-tune: fine-tune, run, export and serve Llama-family language models.
// Targets follow the layers in docs/architecture.md; a target imports only targets below it.
import PackageDescription

let package = Package(
    name: "swift-tune",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "swift-tune", targets: ["swift-tune"]),
        .executable(name: "swift-tune-bench", targets: ["swift-tune-bench"]),
        .library(name: "SwiftTuneQuantization", targets: ["SwiftTuneQuantization"]),
        .library(name: "SwiftTuneTensor", targets: ["SwiftTuneTensor"]),
        .library(name: "SwiftTuneCPU", targets: ["SwiftTuneCPU"]),
        .library(name: "SwiftTuneCUDA", targets: ["SwiftTuneCUDA"]),
        .library(name: "SwiftTuneCheckpoint", targets: ["SwiftTuneCheckpoint"]),
        .library(name: "SwiftTuneNN", targets: ["SwiftTuneNN"]),
        .library(name: "SwiftTuneModels", targets: ["SwiftTuneModels"]),
        .library(name: "SwiftTuneTokenizers", targets: ["SwiftTuneTokenizers"]),
        .library(name: "SwiftTuneChat", targets: ["SwiftTuneChat"]),
        .library(name: "SwiftTuneData", targets: ["SwiftTuneData"]),
        .library(name: "SwiftTuneAdapters", targets: ["SwiftTuneAdapters"]),
        .library(name: "SwiftTuneEngine", targets: ["SwiftTuneEngine"]),
        .library(name: "SwiftTuneTraining", targets: ["SwiftTuneTraining"]),
        .library(name: "SwiftTuneGeneration", targets: ["SwiftTuneGeneration"]),
        .library(name: "SwiftTuneJSON", targets: ["SwiftTuneJSON"]),
        .library(name: "SwiftTuneServer", targets: ["SwiftTuneServer"]),
        .library(name: "SwiftTuneHub", targets: ["SwiftTuneHub"]),
        .library(name: "SwiftTuneExport", targets: ["SwiftTuneExport"]),
        .library(name: "SwiftTuneRunFiles", targets: ["SwiftTuneRunFiles"]),
        .library(name: "SwiftTuneFamilies", targets: ["SwiftTuneFamilies"]),
        .library(name: "SwiftTuneBackendCheck", targets: ["SwiftTuneBackendCheck"]),
        .library(name: "SwiftTuneEval", targets: ["SwiftTuneEval"]),
        .library(name: "SwiftTuneWebUI", targets: ["SwiftTuneWebUI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.100.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.5.0"),
    ],
    targets: [
        // L0, below tensors: block formats (GGML quants, later NF4) as pure functions over bytes, so the Backend
        // protocol can name a format and every layer above can quantize or dequantize.
        .target(name: "SwiftTuneQuantization"),
        // L0: tensors, the Backend protocol, and the two backends.
        .target(name: "SwiftTuneTensor", dependencies: ["SwiftTuneQuantization"]),
        .target(name: "SwiftTuneCPU", dependencies: ["SwiftTuneTensor", "SwiftTuneQuantization"]),
        .target(
            name: "SwiftTuneCUDA",
            dependencies: ["SwiftTuneTensor", "SwiftTuneQuantization"],
            // One NVRTC module per op family (compiled on first use, cached by its own hash) and their shared header.
            resources: [
                .embedInCode("Kernels/common.cuh"), .embedInCode("Kernels/memory.cu"),
                .embedInCode("Kernels/elementwise.cu"), .embedInCode("Kernels/layers.cu"),
                .embedInCode("Kernels/attention.cu"), .embedInCode("Kernels/cross_entropy.cu"),
                .embedInCode("Kernels/generation.cu"), .embedInCode("Kernels/training.cu"),
                .embedInCode("Kernels/sampling.cu"), .embedInCode("Kernels/quantization.cu"),
                .embedInCode("Kernels/lora.cu"),
            ]
        ),
        // L0, below the rest: one JSON value type and parser for every file format (ordered keys, duplicate-key
        // checks, offsets); any target may use it.
        .target(name: "SwiftTuneJSON"),
        // L0: the model-family registry (one entry per model_type: HF and GGUF names, config rules, chat template),
        // read by checkpoints, chat templates and export.
        .target(name: "SwiftTuneFamilies"),
        // L0: tokenizers (HF tokenizer.json byte-level BPE, SentencePiece-style BPE).
        .target(name: "SwiftTuneTokenizers", dependencies: ["SwiftTuneJSON"]),
        // L1: a run folder's files (args.json, checkpoint-N, trainer_state.json, logging.jsonl), for training,
        // generation and export.
        .target(name: "SwiftTuneRunFiles", dependencies: ["SwiftTuneJSON"]),
        // L1: checkpoints and model configs; chat templates.
        .target(name: "SwiftTuneCheckpoint", dependencies: ["SwiftTuneTensor", "SwiftTuneQuantization", "SwiftTuneJSON",
                                                           "SwiftTuneFamilies"]),
        .target(name: "SwiftTuneChat", dependencies: ["SwiftTuneTokenizers", "SwiftTuneJSON", "SwiftTuneFamilies"]),
        // L2: layers with forward and backward, losses.
        .target(name: "SwiftTuneNN", dependencies: ["SwiftTuneTensor", "SwiftTuneQuantization"]),
        // L3: the generic decoder; datasets (rows → template → token ids and labels).
        .target(name: "SwiftTuneModels", dependencies: ["SwiftTuneNN", "SwiftTuneCheckpoint", "SwiftTuneQuantization"]),
        .target(
            name: "SwiftTuneData",
            dependencies: ["SwiftTuneChat", "SwiftTuneTokenizers", "SwiftTuneJSON"],
            resources: [.embedInCode("Resources/self_cognition.jsonl")]
        ),
        .target(name: "SwiftTuneAdapters", dependencies: ["SwiftTuneModels", "SwiftTuneCheckpoint", "SwiftTuneJSON"]),
        // L3: models and datasets by path or hub id: local HF folders and GGUF files, the HF and ModelScope caches,
        // resumable checked downloads.
        .target(
            name: "SwiftTuneHub",
            dependencies: [
                "SwiftTuneModels", "SwiftTuneCheckpoint", "SwiftTuneTokenizers", "SwiftTuneQuantization",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // L4, below training (GRPO samples in its loop) and serving: the generation engine: the paged KV cache's block
        // pool, the token sampler (`Backend.sample` on the device, the host path for top log-probabilities), batched
        // requests with adapters per request, the continuous-batching scheduler.
        .target(
            name: "SwiftTuneEngine",
            dependencies: ["SwiftTuneModels", "SwiftTuneAdapters", "SwiftTuneTokenizers", "SwiftTuneTensor"]
        ),
        // L4: training (sft, pt, rlhf), on top of models, adapters and data; GRPO samples with the engine.
        .target(
            name: "SwiftTuneTraining",
            dependencies: ["SwiftTuneModels", "SwiftTuneAdapters", "SwiftTuneData", "SwiftTuneCheckpoint", "SwiftTuneHub",
                           "SwiftTuneJSON", "SwiftTuneRunFiles", "SwiftTuneQuantization", "SwiftTuneEngine"]
        ),
        // L4: the op-by-op and model comparison of a backend with the CPU reference (`check-backend`), and the
        // relative error the model tests measure with.
        .target(
            name: "SwiftTuneBackendCheck",
            dependencies: ["SwiftTuneModels", "SwiftTuneCheckpoint", "SwiftTuneCPU", "SwiftTuneTensor", "SwiftTuneQuantization"]
        ),
        // L4: export: merge LoRA, HF safetensors folders, GGUF (quantized with ggml's reference rounding), Ollama.
        .target(
            name: "SwiftTuneExport",
            dependencies: ["SwiftTuneModels", "SwiftTuneAdapters", "SwiftTuneCheckpoint", "SwiftTuneHub", "SwiftTuneNN",
                           "SwiftTuneTokenizers", "SwiftTuneTensor", "SwiftTuneQuantization", "SwiftTuneJSON",
                           "SwiftTuneRunFiles"]
        ),
        // L4, above the engine: `infer`'s application code: loading a run (args.json, template, stops), the model's
        // generation_config.json defaults, interactive chat, batch inference and its metrics.
        .target(
            name: "SwiftTuneGeneration",
            dependencies: [
                "SwiftTuneEngine", "SwiftTuneModels", "SwiftTuneAdapters", "SwiftTuneData", "SwiftTuneChat",
                "SwiftTuneTokenizers", "SwiftTuneHub", "SwiftTuneRunFiles", "SwiftTuneQuantization",
            ]
        ),
        // L5: the OpenAI-compatible server (Hummingbird 2): routes, the model it serves, graceful shutdown.
        .target(
            name: "SwiftTuneServer",
            dependencies: [
                "SwiftTuneEngine", "SwiftTuneGeneration", "SwiftTuneHub", "SwiftTuneChat", "SwiftTuneModels", "SwiftTuneAdapters",
                "SwiftTuneTokenizers", "SwiftTuneTensor",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // L5, beside the server: evaluation (`eval`): benchmark and custom sets read from paths, prompts, answer
        // extraction and scores, a model in this process (generation and log-likelihoods) or an OpenAI endpoint.
        .target(
            name: "SwiftTuneEval",
            dependencies: [
                "SwiftTuneGeneration", "SwiftTuneEngine", "SwiftTuneModels", "SwiftTuneChat", "SwiftTuneData", "SwiftTuneJSON",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        // L5, over the server: the web UI (`web-ui`, `app`): the page embedded in the binary, its JSON endpoints, runs
        // as child processes of `swift-tune`, and the server's OpenAI routes for the Chat tab.
        .target(
            name: "SwiftTuneWebUI",
            dependencies: [
                "SwiftTuneServer", "SwiftTuneRunFiles", "SwiftTuneJSON",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // L6: the command line (the only place that picks backends and prints).
        .target(
            name: "SwiftTuneCLI",
            dependencies: [
                "SwiftTuneModels", "SwiftTuneCPU", "SwiftTuneCUDA", "SwiftTuneData", "SwiftTuneTraining",
                "SwiftTuneTokenizers", "SwiftTuneEngine", "SwiftTuneGeneration", "SwiftTuneHub", "SwiftTuneServer", "SwiftTuneExport",
                "SwiftTuneRunFiles", "SwiftTuneBackendCheck", "SwiftTuneQuantization", "SwiftTuneEval",
                "SwiftTuneWebUI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(name: "swift-tune", dependencies: ["SwiftTuneCLI"]),
        .executableTarget(
            name: "swift-tune-bench",
            dependencies: [
                "SwiftTuneModels", "SwiftTuneCPU", "SwiftTuneTokenizers", "SwiftTuneEngine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .testTarget(name: "SwiftTuneTensorTests", dependencies: ["SwiftTuneTensor", "SwiftTuneCPU"]),
        .testTarget(name: "SwiftTuneCPUTests", dependencies: ["SwiftTuneCPU", "SwiftTuneQuantization", "SwiftTuneTestSupport"]),
        .testTarget(name: "SwiftTuneNNTests", dependencies: ["SwiftTuneNN", "SwiftTuneCPU", "SwiftTuneTestSupport"]),
        .testTarget(name: "SwiftTuneTokenizersTests", dependencies: ["SwiftTuneTokenizers"]),
        // Helpers shared by several test targets (never part of a product).
        .target(name: "SwiftTuneTestSupport", dependencies: ["SwiftTuneTokenizers"], path: "Tests/SwiftTuneTestSupport"),
        .testTarget(name: "SwiftTuneChatTests", dependencies: ["SwiftTuneChat", "SwiftTuneJSON", "SwiftTuneTestSupport"]),
        .testTarget(name: "SwiftTuneDataTests", dependencies: ["SwiftTuneData", "SwiftTuneJSON", "SwiftTuneTestSupport"]),
        .testTarget(name: "SwiftTuneCUDATests", dependencies: ["SwiftTuneCUDA"]),
        .testTarget(name: "SwiftTuneAdaptersTests", dependencies: ["SwiftTuneAdapters", "SwiftTuneCPU"]),
        .testTarget(
            name: "SwiftTuneTrainingTests",
            dependencies: ["SwiftTuneTraining", "SwiftTuneAdapters", "SwiftTuneModels", "SwiftTuneCPU", "SwiftTuneRunFiles",
                           "SwiftTuneBackendCheck"]
        ),
        .testTarget(
            name: "SwiftTuneEngineTests",
            dependencies: ["SwiftTuneEngine", "SwiftTuneModels", "SwiftTuneAdapters", "SwiftTuneTokenizers",
                           "SwiftTuneTensor", "SwiftTuneCPU", "SwiftTuneTestSupport"]
        ),
        .testTarget(
            name: "SwiftTuneGenerationTests",
            dependencies: ["SwiftTuneGeneration", "SwiftTuneEngine", "SwiftTuneModels", "SwiftTuneAdapters", "SwiftTuneChat",
                           "SwiftTuneTokenizers", "SwiftTuneCPU", "SwiftTuneTestSupport", "SwiftTuneRunFiles"]
        ),
        .testTarget(name: "SwiftTuneJSONTests", dependencies: ["SwiftTuneJSON"]),
        .testTarget(name: "SwiftTuneRunFilesTests", dependencies: ["SwiftTuneRunFiles", "SwiftTuneJSON"]),
        .testTarget(name: "SwiftTuneBackendCheckTests", dependencies: ["SwiftTuneBackendCheck", "SwiftTuneCPU", "SwiftTuneTensor"]),
        .testTarget(name: "SwiftTuneFamiliesTests", dependencies: ["SwiftTuneFamilies", "SwiftTuneCheckpoint", "SwiftTuneChat", "SwiftTuneExport"]),
        .testTarget(
            name: "SwiftTuneServerTests",
            dependencies: [
                "SwiftTuneServer", "SwiftTuneEngine", "SwiftTuneGeneration", "SwiftTuneCPU",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "SwiftTuneEvalTests",
            dependencies: [
                "SwiftTuneEval", "SwiftTuneGeneration", "SwiftTuneEngine", "SwiftTuneServer", "SwiftTuneCPU", "SwiftTuneJSON",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "SwiftTuneWebUITests",
            dependencies: [
                "SwiftTuneWebUI", "SwiftTuneServer", "SwiftTuneGeneration", "SwiftTuneEngine", "SwiftTuneCPU", "SwiftTuneJSON",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ]
        ),
        .testTarget(
            name: "SwiftTuneHubTests",
            dependencies: [
                "SwiftTuneHub", "SwiftTuneCPU",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                "SwiftTuneCheckpoint", "SwiftTuneBackendCheck",
            ]
        ),
        // A child process for the signal tests: the training loop's StopSignal around a simulated phase of a run.
        // The parsers' fuzz targets (issue 18): one library of entry points, the libFuzzer binary over it
        // (`scripts/fuzz.sh` builds it with -sanitize=fuzzer,address -DFUZZING; without, it replays inputs), and the
        // replay tests over the crash inputs and hand-written cases.
        .target(
            name: "SwiftTuneFuzzTargets",
            dependencies: ["SwiftTuneCheckpoint", "SwiftTuneJSON", "SwiftTuneData", "SwiftTuneChat", "SwiftTuneTokenizers",
                           "SwiftTuneHub", "SwiftTuneServer", "SwiftTuneGeneration", "SwiftTuneEngine", "SwiftTuneCPU",
                           "SwiftTuneQuantization", "SwiftTuneTensor"],
            path: "Tests/FuzzTargets"
        ),
        .executableTarget(name: "swift-tune-fuzz", dependencies: ["SwiftTuneFuzzTargets"], path: "Tests/Fuzz",
                          exclude: ["Dictionaries"]),
        .testTarget(name: "SwiftTuneFuzzTests", dependencies: ["SwiftTuneFuzzTargets", "SwiftTuneCheckpoint", "SwiftTuneJSON"]),
        .executableTarget(name: "swift-tune-signal-probe", dependencies: ["SwiftTuneTraining", "SwiftTuneRunFiles"], path: "Tests/SignalProbe"),
        .testTarget(name: "SwiftTuneCLITests", dependencies: ["swift-tune", "swift-tune-signal-probe"]),
        .testTarget(
            name: "SwiftTuneExportTests",
            dependencies: ["SwiftTuneExport", "SwiftTuneAdapters", "SwiftTuneHub", "SwiftTuneModels", "SwiftTuneCPU",
                           "SwiftTuneCheckpoint", "SwiftTuneQuantization", "SwiftTuneTokenizers", "SwiftTuneJSON", "SwiftTuneTestSupport",
                           "SwiftTuneBackendCheck"]
        ),
        .testTarget(name: "SwiftTuneCheckpointTests", dependencies: ["SwiftTuneCheckpoint", "SwiftTuneQuantization", "SwiftTuneCPU"]),
        .testTarget(
            name: "SwiftTuneModelsTests",
            dependencies: ["SwiftTuneModels", "SwiftTuneCPU", "SwiftTuneFamilies", "SwiftTuneBackendCheck"]
        ),
    ],
    swiftLanguageModes: [.v6]
)
