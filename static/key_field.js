// Clears the key field when the page goes away (a full navigation or closing
// the tab), so neither the back/forward cache nor a password manager keeps
// it. In-app navigation swaps only <main> and never fires this.
addEventListener("pagehide", () => {
  const field = document.getElementById("api-key");
  if (field) field.value = "";
});
