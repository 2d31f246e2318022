/** A plain message page (not found, errors). */
export function MessagePage(
  { title, message }: { title: string; message: string },
) {
  return (
    <section class="panel">
      <h1>{title}</h1>
      <p>{message}</p>
      <p>
        <a href="/">Back to a new batch</a>
      </p>
    </section>
  );
}
