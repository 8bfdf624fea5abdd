import "./locale";
import { render } from "preact";
import { App, applyTheme } from "./App";
import "./styles.css";

// Follow the system until the stored theme is read.
applyTheme("system");
render(<App />, document.getElementById("app")!);
