import { ApiError, postJson } from "./api";
import { applyTranslations, lang, setLang, t, type Lang } from "./i18n";

/** The login form; resolves once the session cookie is set. */
export function showLogin(root: HTMLElement): Promise<void> {
  root.innerHTML = `
    <main class="login" aria-labelledby="login-title">
      <form class="login-card" novalidate>
        <div class="login-top">
          <h1 class="brand">平安 <span>Pingan</span></h1>
          <label class="lang"><span data-i18n="language"></span>
            <select id="login-lang"><option value="zh">中文</option><option value="en">English</option></select>
          </label>
        </div>
        <h2 id="login-title" data-i18n="loginTitle"></h2>
        <label for="login-username" data-i18n="username"></label>
        <input id="login-username" name="username" autocomplete="username" required />
        <label for="login-password" data-i18n="password"></label>
        <input id="login-password" name="password" type="password"
               autocomplete="current-password" required />
        <p class="error" role="alert" id="login-error"></p>
        <button type="submit" data-i18n="signIn"></button>
      </form>
    </main>`;
  applyTranslations(root);
  const form = root.querySelector("form") as HTMLFormElement;
  const error = root.querySelector("#login-error") as HTMLElement;
  const button = form.querySelector("button") as HTMLButtonElement;
  const language = form.querySelector("#login-lang") as HTMLSelectElement;
  language.value = lang();
  language.addEventListener("change", () => setLang(language.value as Lang));
  (form.querySelector("#login-username") as HTMLInputElement).focus();
  return new Promise((resolve) => {
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const data = new FormData(form);
      error.textContent = "";
      button.disabled = true;
      button.textContent = t("signingIn");
      try {
        await postJson("/api/v1/auth/login", {
          username: String(data.get("username") ?? ""),
          password: String(data.get("password") ?? ""),
        });
        resolve();
      } catch (exc) {
        error.textContent = exc instanceof ApiError ? exc.detail : String(exc);
        button.disabled = false;
        button.textContent = t("signIn");
      }
    });
  });
}
