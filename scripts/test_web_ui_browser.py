#!/usr/bin/env python3
"""The web UI in a real browser: headless Chromium from Debian's packages (`chromium`, `chromium-driver`) driven by
Selenium. Starts `swift-tune web-ui --port 0` on a temporary root holding the tiny model, then, as a user would:
fills the Train form (built from sft's own flags) for a 20-step LoRA run, starts it, sees the loss plot gain points
and the run finish; loads the result in the Chat tab and sees a streamed answer; reloads the page and finds the run
listed; runs an eval from the Eval tab and sees its report table. Screenshots of each tab go to docs/images/.

    python3 scripts/test_web_ui_browser.py [.build/debug/swift-tune]
Needs: apt-get install chromium chromium-driver; pip install selenium.
"""
import glob
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

ROOT = pathlib.Path(__file__).resolve().parents[1]
BINARY = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / ".build/debug/swift-tune").resolve()
IMAGES = ROOT / "docs/images"


def main():
    work = pathlib.Path(tempfile.mkdtemp(prefix="swift-tune-browser-"))
    shutil.copytree(ROOT / "Tests/Fixtures/golden/qwen2", work / "tiny")
    shutil.copy(ROOT / "Tests/Fixtures/eval/custom/qa.jsonl", work / "qa.jsonl")
    log = open(work / "web-ui.log", "w+")
    server = subprocess.Popen([str(BINARY), "web-ui", "--port", "0", "--root_dir", str(work)], stdout=log,
                              stderr=subprocess.STDOUT)
    driver = None
    try:
        port = None
        for _ in range(300):
            log.seek(0)
            match = re.search(r"web UI on http://127\.0\.0\.1:(\d+)/", log.read())
            if match:
                port = int(match.group(1))
                break
            time.sleep(0.1)
        assert port, "web-ui did not report its port"
        url = f"http://127.0.0.1:{port}/"
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1200,1900"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        # The page redraws the runs table and the plots every 2 s: an element read mid-redraw is stale, so retry.
        wait = lambda seconds: WebDriverWait(driver, seconds, poll_frequency=0.2,
                                             ignored_exceptions=[StaleElementReferenceException])
        driver.get(url)

        # Train: the form comes from sft's flag definitions.
        wait(30).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#train-form [name="lora_rank"]'))
        fields = {"model": "tiny", "dataset": "self-cognition#8", "model_name": "Tiny", "model_author": "Lab",
                  "max_length": "512", "max_steps": "20", "lora_rank": "4", "logging_steps": "1", "device": "cpu",
                  "output_dir": "out"}
        for name, value in fields.items():
            element = driver.find_element(By.CSS_SELECTOR, f'#train-form [name="{name}"]')
            if element.tag_name == "select":
                Select(element).select_by_value(value)
            else:
                element.send_keys(value)
        driver.find_element(By.ID, "train-start").click()
        wait(30).until(lambda d: "running" in d.find_element(By.ID, "runs").text or "finished" in d.find_element(By.ID, "runs").text)

        def points():
            for _ in range(20):
                try:
                    svgs = driver.find_elements(By.CSS_SELECTOR, 'svg[data-series="loss"]')
                    return int(svgs[0].get_attribute("data-points")) if svgs else 0
                except StaleElementReferenceException:
                    time.sleep(0.05)
            return 0
        wait(120).until(lambda d: points() > 0)
        first = points()
        wait(600).until(lambda d: "finished" in d.find_element(By.ID, "run-progress").text)
        wait(10).until(lambda d: points() == 20)
        assert points() > first, f"the plot gained no points ({first} -> {points()})"
        driver.save_screenshot(str(IMAGES / "web-ui-train.png"))
        print(f"train: the loss plot went from {first} to {points()} points; the run finished")

        # Reload: the run is still listed.
        driver.refresh()
        wait(30).until(lambda d: "finished" in d.find_element(By.ID, "runs").text)
        print("reload: the run is listed as finished")

        # Chat with the result.
        checkpoint = sorted(glob.glob(str(work / "out/v*/checkpoint-*")))[-1]
        driver.find_element(By.ID, "nav-chat").click()
        driver.find_element(By.ID, "chat-model").send_keys("tiny")
        driver.find_element(By.ID, "chat-adapters").send_keys(os.path.relpath(checkpoint, work))
        driver.find_element(By.ID, "chat-system").send_keys("Be brief.")
        max_tokens = driver.find_element(By.ID, "chat-max-tokens")
        max_tokens.clear()
        max_tokens.send_keys("12")
        driver.find_element(By.ID, "chat-load").click()
        wait(120).until(lambda d: d.find_element(By.ID, "chat-status").text.startswith(("ready", "failed")))
        assert driver.find_element(By.ID, "chat-status").text.startswith("ready"), driver.find_element(By.ID, "chat-status").text
        driver.find_element(By.ID, "chat-input").send_keys("Who are you?")
        driver.find_element(By.ID, "chat-send").click()
        wait(60).until(lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, "#messages .assistant") if e.text.strip()])
        answer = driver.find_element(By.CSS_SELECTOR, "#messages .assistant").text
        driver.save_screenshot(str(IMAGES / "web-ui-chat.png"))
        print(f"chat: streamed answer {answer!r}")

        # Export: the form from export's flags.
        driver.find_element(By.ID, "nav-export").click()
        wait(10).until(lambda d: d.find_elements(By.CSS_SELECTOR, '#export-form [name="gguf_type"]'))
        driver.find_element(By.CSS_SELECTOR, '#export-form [name="adapters"]').send_keys(os.path.relpath(checkpoint, work))
        driver.save_screenshot(str(IMAGES / "web-ui-export.png"))

        # Eval: a run of the custom QA set, then its report table.
        driver.find_element(By.ID, "nav-eval").click()
        for name, value in {"model": "tiny", "eval_dataset": "qa.jsonl", "max_new_tokens": "4", "system": "Be brief.",
                            "device": "cpu"}.items():
            driver.find_element(By.CSS_SELECTOR, f'#eval-form [name="{name}"]').send_keys(value)
        driver.find_element(By.ID, "eval-start").click()
        for _ in range(300):
            driver.find_element(By.ID, "reports-refresh").click()
            time.sleep(0.5)
            if "rouge-l-f" in driver.find_element(By.ID, "reports").text:
                break
        assert "rouge-l-f" in driver.find_element(By.ID, "reports").text, driver.find_element(By.ID, "reports").text
        driver.save_screenshot(str(IMAGES / "web-ui-eval.png"))
        print("eval: the report table is shown")
        print("browser test passed")
    finally:
        if driver:
            driver.quit()
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
