"""Build rules for compiling tree-sitter grammars."""

load("@bazel_skylib//lib:paths.bzl", "paths")
load(":providers.bzl", "GrammarInfo")

_DEFAULT_COPTS = ["-O2", "-fPIC", "-std=c11"]

def _grammar_name(src):
    """Derive the grammar name from a parser.c path."""
    parts = src.short_path.split("/")
    if len(parts) < 3:
        fail("unexpected grammar layout: %s" % src.short_path)
    return parts[-3]

def _tree_sitter_grammar_impl(ctx):
    name = ctx.attr.language or _grammar_name(ctx.file.parser)
    out = ctx.actions.declare_file("lib%s.so" % name)
    srcs = [ctx.file.parser] + ctx.files.scanners
    args = ctx.actions.args()
    args.add_all(_DEFAULT_COPTS + ctx.attr.copts)
    args.add("-shared")
    args.add("-o", out)
    for src in srcs:
        if src.extension == "cc":
            args.add("-lstdc++")
        args.add(src)
    ctx.actions.run(
        inputs = srcs + ctx.files.headers,
        outputs = [out],
        executable = ctx.executable._compiler,
        arguments = [args],
        mnemonic = "TreeSitterCompile",
        progress_message = "Compiling grammar %s" % name,
    )
    return [
        DefaultInfo(files = depset([out])),
        GrammarInfo(name = name, library = out, abi = ctx.attr.abi_version),
    ]

tree_sitter_grammar = rule(
    implementation = _tree_sitter_grammar_impl,
    attrs = {
        "parser": attr.label(allow_single_file = [".c"], mandatory = True),
        "scanners": attr.label_list(allow_files = [".c", ".cc"]),
        "headers": attr.label_list(allow_files = [".h"]),
        "language": attr.string(default = ""),
        "copts": attr.string_list(default = []),
        "abi_version": attr.int(default = 14),
        "_compiler": attr.label(
            default = "@local_config_cc//:cc_wrapper",
            executable = True,
            cfg = "exec",
        ),
    },
)

def grammar_suite(name, languages, visibility = None):
    """Declare one grammar target per language plus a filegroup."""
    targets = []
    for lang in sorted(languages):
        target = "%s_%s" % (name, lang)
        tree_sitter_grammar(
            name = target,
            parser = "//grammars/%s:src/parser.c" % lang,
            language = lang,
        )
        targets.append(":" + target)
    native.filegroup(
        name = name,
        srcs = targets,
        visibility = visibility or ["//visibility:public"],
    )
    return {lang: t for lang, t in zip(languages, targets) if lang != "skip"}
