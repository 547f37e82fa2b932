import ArgumentParser

/// ms-swift's snake_case flag and its kebab-case spelling (`--lora_rank`, `--lora-rank`).
func flag(_ snake: String) -> NameSpecification {
    let kebab = snake.replacingOccurrences(of: "_", with: "-")
    return kebab == snake ? [.customLong(snake)] : [.customLong(snake), .customLong(kebab)]
}
