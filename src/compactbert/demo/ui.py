"""The Gradio Blocks of the demo: inputs, the side-by-side result, charts. Logic lives in `compare` and `zoo`.

The button runs the named API endpoint `compare` (text first, every other input with a default), which returns
plain data; a second, private step draws that data. So `gradio_client` users get exactly what the page shows.
"""

from __future__ import annotations

import time
from importlib.resources import files
from typing import Any

import gradio as gr
from matplotlib.figure import Figure

from ..export.formats import runtime_title
from .compare import FINE_TUNED_CHOICE, MAX_REPEATS, MAX_TEXT_CHARS, NOT_RETRAINED, Comparer
from .describe import count, entry_line, teacher_sentence, title
from .zoo import BuildProgress

QUEUE_SIZE = 64  # requests waiting beyond this are refused with "queue full" instead of piling up
ACCURACY_PLOT, LATENCY_PLOT, FRONTIER_PLOT = "accuracy_vs_layers.png", "latency_vs_layers.png", "frontier.png"
# the plots of the studies, shipped in the package: name -> (its label, the study folder under docs/results)
STUDY_PLOTS = {
    ACCURACY_PLOT: "Accuracy vs layers kept (layer-drop study, MiniLM-L6, fine-tuned and not retrained)",
    LATENCY_PLOT: "Forward time vs layers kept (layer-drop study, MiniLM-L6, bf16)",
    FRONTIER_PLOT: (
        "The best student at each latency: students cut out of the fine-tuned MiniLM-L6 (pruning study, "
        "rotten-tomatoes, one epoch on the labels, seed 0; batch 32, bf16, on a 2-core AMD EPYC with AVX512-BF16)"
    ),
}
STUDY_FOLDERS = {ACCURACY_PLOT: "layer_drop_study", LATENCY_PLOT: "layer_drop_study", FRONTIER_PLOT: "pruning"}
CSS = "#summary {min-height: 3em}"
# the parameters of the API's `compare`, the demo's and the building app's (which refuses it): one description
COMPARE_ARGS = """
Args:
    text: the text to classify (at most 5,000 characters).
    strategy: a drop strategy of compactbert.STRATEGIES.
    num_drop: how many layers to drop (K).
    model: "dropped, not retrained", "fine-tuned (zoo)", or another entry of the zoo.
    repeats: timing runs (1-30); the median is reported.
    runtime: what runs both models: "torch" or an installed runtime ("openvino", "onnxruntime").
"""


def study_plot_path(name: str) -> str:
    """The studies' plots ship inside the package (copies of docs/results/<STUDY_FOLDERS[name]>/<name>)."""
    return str(files("compactbert.demo") / "assets" / name)


def latency_figure(result: dict[str, Any]) -> Figure:
    """Median latency of the teacher and the compact model, min-max as error bars; the axis starts at zero."""
    figure = Figure(figsize=(5.5, 3.2), layout="constrained")
    axes = figure.add_subplot()
    sides = ["teacher", "compact"]
    medians = [result[s]["latency_ms"]["median"] for s in sides]
    low = [m - result[s]["latency_ms"]["min"] for s, m in zip(sides, medians, strict=True)]
    high = [result[s]["latency_ms"]["max"] - m for s, m in zip(sides, medians, strict=True)]
    names = [
        f"teacher\n{result['teacher']['num_layers']} layers",
        f"compact\n{result['compact']['num_layers']} layers",
    ]
    bars = axes.bar(names, medians, yerr=[low, high], capsize=6, color=["#4c72b0", "#dd8452"])
    axes.bar_label(bars, labels=[f"{m:.1f} ms" for m in medians], padding=3)
    axes.set_ylim(0, max(m + h for m, h in zip(medians, high, strict=True)) * 1.25)
    axes.set_ylabel("ms per text (median; bars: min-max)")
    runtime = runtime_name(result)
    axes.set_title(f"{speed_words(result['speedup'])}, {result['repeats']} interleaved runs, {runtime}")
    return figure


def contribution_figure(scores: list[float] | None) -> Figure | None:
    """The teacher's per-layer [CLS] input/output cosine (high = the layer changes little); the axis starts at 0."""
    if not scores:
        return None
    figure = Figure(figsize=(5.5, 3.2), layout="constrained")
    axes = figure.add_subplot()
    bars = axes.bar([str(i) for i in range(len(scores))], scores, color="#55a868")
    axes.bar_label(bars, labels=[f"{s:.3f}" for s in scores], padding=2, fontsize=8)
    axes.set_ylim(0, 1.12)
    axes.set_xlabel("teacher layer (0-based, bottom to top)")
    axes.set_ylabel("[CLS] in/out cosine")
    return figure


def speed_words(speedup: float) -> str:
    """The compact model's speed against the teacher's, in words: `1.85x faster`, or `1.19x slower` (a speedup of
    0.84), never a speedup under 1 called faster."""
    return f"{speedup:.2f}x faster" if speedup >= 1 else f"{1 / speedup:.2f}x slower"


def runtime_name(result: dict[str, Any]) -> str:
    """`OpenVINO, bfloat16`: what ran both models (a result saved before runtimes existed ran on PyTorch)."""
    runtime = result.get("runtime")
    return f"{runtime_title(runtime)}, {result['dtype']}"


def summary_markdown(result: dict[str, Any]) -> str:
    t, c = result["teacher"], result["compact"]
    agree = "**agree**" if result["agree"] else "**disagree**"
    compact = f"compact: {c['name']}"  # a zoo entry's name, or the teacher minus K layers, not retrained
    width = f", hidden {c['hidden_size']}" if c["hidden_size"] != t["hidden_size"] else ""  # a narrower student
    shape = f"kept {c['kept_layers']}{width}"
    if c.get("sharing"):  # an Albert-SOP: its layers are not kept teacher layers; E and the sharing say its size
        shape = f"sharing {c['sharing']}, E {c['embedding_size']}{width}"
    return (
        f"Teacher ({t['num_layers']} layers, {count(t['num_parameters'])} parameters): **{t['label']}** · "
        f"{compact} ({c['num_layers']} layers, {shape}, {count(c['num_parameters'])} "
        "parameters): "
        f"**{c['label']}** · they {agree}. Latency {t['latency_ms']['median']:.1f} ms vs "
        f"{c['latency_ms']['median']:.1f} ms (median of {result['repeats']}, both on {runtime_name(result)}): "
        f"the compact model is **{speed_words(result['speedup'])}**."
        + accuracy_words(t.get("test_accuracy"), c.get("test_accuracy"))
    )


def accuracy_words(teacher: float | None, compact: float | None) -> str:
    """` Test accuracy as the zoo records it: 94.1% vs the teacher's 97.7%, 96.3% kept.` when the zoo records both
    (on its test split, as each model was evaluated after training: not re-measured on this page's runtime), else
    `""` (a model with layers dropped and not retrained was never scored)."""
    if not teacher or compact is None:
        return ""
    return (
        f" Test accuracy as the zoo records it: {compact:.1%} vs the teacher's {teacher:.1%}, "
        f"**{compact / teacher:.1%} kept**."
    )


def slider_top(max_drop: int) -> int:
    """The K slider's end: the most layers a strategy drops, but at least 2 (a slider needs its end above its start;
    a K the teacher cannot lose is refused with why)."""
    return max(2, max_drop)


def how_to_choose(comparer: Comparer) -> str:
    """What the page's choices do, for this zoo: a drop strategy and K on the teacher (when its layers can be dropped),
    the zoo's fine-tuned models for a strategy and K (when it has some)."""
    fine_tuned = ", ".join(f"{e.strategy} K={e.num_drop}" for e in comparer.fine_tuned_entries())
    how = []
    if comparer.can_drop:
        how.append(
            "Pick a drop strategy (Poor Man's BERT) and how many layers to drop. "
            f"*{NOT_RETRAINED}* removes the layers from the fine-tuned teacher as it is (what dropping costs)"
        )
    if fine_tuned:
        how.append(
            f"*{FINE_TUNED_CHOICE}* uses the zoo's model for that strategy and K, which had those layers dropped and "
            f"was then fine-tuned (what fine-tuning recovers; in this zoo: {fine_tuned})"
        )
    return "; ".join(how) + "." if how else ""


def render(result: dict[str, Any] | None):
    """Turn the `compare` data into what the page shows."""
    if not result:
        return "", None, None, None
    return (
        summary_markdown(result),
        result["teacher"]["probabilities"],
        result["compact"]["probabilities"],
        latency_figure(result),
    )


def problems_markdown(problems: dict[str, str]) -> str:
    """What the page says about zoo entries that could not be loaded (by name, with what went wrong)."""
    lines = [f"- **{name}**: {what}" for name, what in problems.items()]
    return "**Not every model of this zoo could be loaded**; these are left out:\n" + "\n".join(lines)


def build_demo(comparer: Comparer, problems: dict[str, str] | None = None) -> gr.Blocks:
    """The demo's Blocks over one `Comparer`; call `.queue()` / `.launch()` on it (see `launch_demo`).

    `problems` (`{entry name: what went wrong}`) are zoo entries that could not be loaded: the page names them.
    """
    zoo = comparer.zoo
    strategies = comparer.strategies  # `contribution` only with the teacher's scores

    def compare(
        text: str,
        strategy: str = comparer.default_strategy,
        num_drop: float = comparer.default_drop,
        model: str = comparer.default_model,
        repeats: float = 10,
        runtime: str = comparer.backend,
    ) -> dict[str, Any]:
        try:  # a model's first use (an export, OpenVINO's int8 quantization) is said in a notice while the page waits
            return comparer.compare(text, strategy, num_drop, model, repeats, runtime, announce=gr.Info)
        except (ValueError, OSError) as err:  # bad input, or a model folder gone (a cache cleared while serving)
            raise gr.Error(str(err), print_exception=False) from None

    compare.__doc__ = (  # what the API page and gradio_client show for the endpoint
        "Classify a text with the teacher and a compact model; time both side by side.\n"
        + COMPARE_ARGS
        + "\nReturns:\n    teacher and compact: label, probabilities, parameters, kept layers, the zoo's test "
        "accuracy, latency (median/min/max ms);\n    agree, speedup, repeats, runtime, dtype.\n"
    )

    def on_choice(strategy: str, num_drop: float, model: str):
        """Keep K within what the strategy can drop, and on a zoo K when a fine-tuned model is chosen; a zoo entry
        of its own (pruned, distilled, ...) takes neither strategy nor K, so both are greyed out for it."""
        top = comparer.max_drop(strategy)
        value = max(1, min(int(num_drop), top))
        if model == FINE_TUNED_CHOICE:
            have = sorted(e.num_drop for e in comparer.fine_tuned_entries() if e.strategy == strategy)
            if have and value not in have:
                value = min(have, key=lambda k: abs(k - value))
        dropped = model in (NOT_RETRAINED, FINE_TUNED_CHOICE)
        return gr.Slider(maximum=slider_top(top), value=value, interactive=dropped), gr.Dropdown(interactive=dropped)

    teacher_accuracy = zoo.teacher.metrics.get("test_accuracy")
    others = "".join(f"\n- {entry_line(e, teacher_accuracy)}" for e in comparer.other_entries())
    with gr.Blocks(title="compactbert: drop layers, compare") as demo:
        gr.Markdown(
            f"# {title(comparer.can_drop)}\n{teacher_sentence(zoo, comparer.num_layers)} {how_to_choose(comparer)}"
            + (
                f"\n\n{'Other students' if comparer.can_drop else 'Students'} in this zoo (choose them by name; "
                f"strategy and K do not apply to them):{others}"
                if others
                else ""
            )
        )
        if problems:
            gr.Markdown(problems_markdown(problems), elem_id="zoo-problems")
        if comparer.backend_choice is not None:  # backend="auto": which runtime it chose on the teacher, and why
            gr.Markdown(f"**Runtime chosen** (`auto`): {comparer.backend_choice.reason}", elem_id="runtime-choice")
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(
                    label=f"Text (up to {MAX_TEXT_CHARS:,} characters; the models read the first 128 tokens)",
                    lines=7,
                    elem_id="text",
                )
                if zoo.examples:
                    gr.Examples(
                        [[e["text"]] for e in zoo.examples],
                        inputs=[text],
                        example_labels=[f"[{e['label']}] {e['text'][:70]}..." for e in zoo.examples],
                        label=zoo.build.get("examples")  # a zoo of one's own models, on data not known to be held out
                        or f"Held-out {zoo.task} test texts (never trained on), with their true labels",
                    )
            with gr.Column(scale=2):
                dropped = comparer.default_model in (NOT_RETRAINED, FINE_TUNED_CHOICE)  # strategy and K apply
                droppable = comparer.can_drop or bool(comparer.fine_tuned_entries())  # else neither is shown
                strategy = gr.Dropdown(
                    strategies,
                    value=comparer.default_strategy,
                    label="Drop strategy",
                    elem_id="strategy",
                    interactive=dropped,
                    visible=droppable,
                )
                num_drop = gr.Slider(
                    1,
                    slider_top(comparer.max_drop(comparer.default_strategy)),
                    value=max(1, comparer.default_drop),
                    step=1,
                    label="Layers to drop (K)",
                    interactive=dropped,
                    visible=droppable,
                )
                model = gr.Radio(comparer.model_choices, value=comparer.default_model, label="Compact model")
                repeats = gr.Slider(1, MAX_REPEATS, value=10, step=1, label="Timing runs (median is shown)")
                runtime = gr.Radio(
                    comparer.runtime_choices,
                    value=comparer.backend,
                    label="Runtime (runs both models; a runtime exports a model on its first use, an int8 one also "
                    "quantizes it)",
                    visible=len(comparer.runtime_choices) > 1,
                    elem_id="runtime",
                )
                button = gr.Button("Compare", variant="primary", elem_id="compare-button")
        summary = gr.Markdown(elem_id="summary")
        with gr.Row():
            teacher_label = gr.Label(label="Teacher", elem_id="teacher-label")
            compact_label = gr.Label(label="Compact model", elem_id="compact-label")
        latency = gr.Plot(label="Latency, measured side by side", elem_id="latency-plot")
        with gr.Accordion("Result as data (what the `compare` API endpoint returns)", open=False):
            result = gr.JSON(label="compare")
        gr.Markdown("## The teacher's layers, and the layer-drop study")
        with gr.Row():
            with gr.Column():
                if not comparer.can_drop:
                    gr.Markdown(
                        f"**The teacher's layers.** The teacher (`{comparer.teacher.config.model_type}`) is not a BERT "
                        "whose layers the demo drops: compare it with the zoo's models.",
                        elem_id="no-contributions",
                    )
                else:
                    gr.Markdown(
                        "**Teacher layer contributions** (the `contribution` strategy drops the highest first)"
                    )
                if zoo.contributions and comparer.can_drop:
                    gr.Plot(contribution_figure(zoo.contributions), show_label=False)
                elif comparer.can_drop:
                    gr.Markdown(
                        "This zoo has no contribution scores for its teacher, so the `contribution` strategy is not "
                        "offered (`compactbert demo --teacher DIR --model DIR --task TASK` scores the layers on the "
                        "task's texts).",
                        elem_id="no-contributions",
                    )
            gr.Image(study_plot_path(LATENCY_PLOT), label=STUDY_PLOTS[LATENCY_PLOT], interactive=False)
        gr.Image(study_plot_path(ACCURACY_PLOT), label=STUDY_PLOTS[ACCURACY_PLOT], interactive=False)
        gr.Markdown(
            "## Which student for which speed\n"
            "Every shape a student can be cut to, from the same teacher: dropping whole layers keeps the most "
            "accuracy down to about half the teacher's time, pruning the width as well below that "
            "([the pruning study](https://github.com/compactbert/compactbert/blob/main/docs/pruning.md))."
        )
        gr.Image(
            study_plot_path(FRONTIER_PLOT),
            label=STUDY_PLOTS[FRONTIER_PLOT],
            interactive=False,
            elem_id="frontier-plot",
        )

        for control in (strategy, model):
            control.change(
                on_choice, [strategy, num_drop, model], [num_drop, strategy], api_visibility="private", queue=False
            )
        button.click(
            compare,
            [text, strategy, num_drop, model, repeats, runtime],
            result,
            api_name="compare",
            concurrency_limit=1,
            concurrency_id="models",
            show_progress_on=[summary, latency],  # the wait is shown where the result will be (the JSON is folded)
        ).success(render, result, [summary, teacher_label, compact_label, latency], api_visibility="private")
        gr.api(ready_status, api_name="status", queue=False)  # what the building app's `status` turns into
    return demo


def unavailable_page(problems: dict[str, str]) -> gr.Blocks:
    """The page when the zoo's teacher cannot be loaded: there is nothing to compare with, so it says why (and its
    `status` endpoint, not ready, says the same as data)."""
    with gr.Blocks(title="compactbert: the models could not be loaded") as demo:
        gr.Markdown(
            "# compactbert: the demo cannot start\n"
            "The teacher of this zoo, which every comparison needs, could not be loaded.\n\n"
            + problems_markdown(problems)
            + "\n\nPublish the zoo again (`compactbert publish ZOO --org ORG --space OWNER/NAME`) or correct `zoo.json`.",
            elem_id="zoo-problems",
        )

        def status() -> dict[str, Any]:
            """Not ready, and never will be as it is: the models that could not be loaded, and why."""
            return {"ready": False, "problems": dict(problems), "message": "the demo cannot start: " + "; ".join(
                f"{name}: {why}" for name, why in problems.items())}  # fmt: skip

        gr.api(
            status, api_name="status", queue=False
        )  # so that a client polling /status learns why, not "no endpoint"
    return demo


def ready_status() -> dict[str, Any]:
    """What the demo's `status` endpoint returns once its models are loaded (the building app's says how far it is)."""
    return {"ready": True, "message": "the models are ready: call /compare"}


def building_status(started: float, progress: BuildProgress | None = None) -> dict[str, Any]:
    """What the building app's `status` endpoint returns: not ready, models finished of how many (0 of 0 until the
    build has planned them), since when (UTC) and for how long, and a message saying what to do meanwhile."""
    seconds = int(time.time() - started)
    minutes, rest = divmod(seconds, 60)
    since = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started))
    progress = progress or BuildProgress()
    done = f"{progress.done} of {progress.total} models done; " if progress.total else ""
    message = (
        f"The demo's models are still building ({done}since {since[11:16]} UTC, {minutes} min {rest:02d} s so far). "
        "Retry in a few minutes with a new Client (one keeps the endpoints of the app it connected to: this "
        "building one); /status says when the models are ready."
    )
    return {
        "ready": False,
        "models_done": progress.done,
        "models_total": progress.total,
        "building": progress.current,
        "since": since,
        "seconds": seconds,
        "message": message,
    }


def building_page(
    started: float,
    expected: str,
    reload_seconds: int = 30,
    progress: BuildProgress | None = None,
    backend: str = "torch",
) -> gr.Blocks:
    """The page shown while the app builds its zoo: what it is doing, since when, how far it is (`progress`, kept up
    to date by the build) and how long that takes.

    Its API answers too: `status` (see `building_status`), and `compare`, with the demo's parameters (`backend`: the
    runtime's default), which refuses with a `gradio.Error` saying that the models are still building instead of
    being an unknown endpoint. Launch it with `head=reload_head(reload_seconds)`: the browser reloads the page until
    the demo is served instead.
    """

    def page_status() -> str:
        now = building_status(started, progress)
        minutes, seconds = divmod(now["seconds"], 60)
        done = f": {now['models_done']} of {now['models_total']} models done" if now["models_total"] else ""
        return (
            f"Building for **{minutes} min {seconds:02d} s** (since {now['since'][11:16]} UTC){done}. This page "
            f"reloads itself every {reload_seconds} s and shows the demo as soon as the models are ready."
        )

    def status() -> dict[str, Any]:
        """Whether the demo's models are ready; while they build: how many are done of how many, since when.

        Returns:
            ready (false while building), models_done, models_total, building (the model in training), since
            (UTC), seconds, message.
        """
        return building_status(started, progress)

    def compare(
        text: str,
        strategy: str = "top",
        num_drop: float = 3,
        model: str = NOT_RETRAINED,
        repeats: float = 10,
        runtime: str = backend,
    ) -> dict[str, Any]:
        raise gr.Error(building_status(started, progress)["message"], print_exception=False)

    compare.__doc__ = (
        "The demo's comparison; refused while its models are still building (the error says how far they are).\n"
        + COMPARE_ARGS
    )

    with gr.Blocks(title="compactbert: building the models") as demo:
        gr.Markdown(
            "# compactbert: building the model zoo\n"
            "There is no manifest of published models (`zoo.json`) next to the app, so it trains its own models on "
            f"this machine, once (later starts reuse them): {expected}",
            elem_id="building",
        )
        shown = gr.Markdown(page_status(), elem_id="building-status")
        demo.load(page_status, outputs=shown, api_visibility="private", queue=False)  # each reload: how far now
        gr.Timer(5).tick(page_status, outputs=shown, api_visibility="private", queue=False)
        gr.api(compare, api_name="compare", queue=False)
        gr.api(status, api_name="status", queue=False)
    return demo


def reload_head(seconds: int = 30) -> str:
    """What `launch(head=...)` puts in the page's head so that the browser reloads it every `seconds`: only when the
    server answers, so a reload never lands in the moment the demo takes the building page's place."""
    return (
        "<script>setInterval(function () { fetch(window.location.href, {cache: 'no-store'})"
        ".then(function (r) { if (r.ok) { window.location.reload(); } }).catch(function () {}); }, "
        f"{seconds * 1000});</script>"
    )


def launch_demo(demo: gr.Blocks, **launch_kwargs):
    """Queue (bounded, one comparison at a time) and launch; gradio 6 takes theme and css in `launch()`."""
    demo.queue(max_size=QUEUE_SIZE, default_concurrency_limit=2)
    launch_kwargs.setdefault("theme", gr.themes.Soft())
    launch_kwargs.setdefault("css", CSS)
    return demo.launch(**launch_kwargs)
