"""The proof language: tokenizer, parser (text -> AST) and elaborator (AST -> mathematics)."""
