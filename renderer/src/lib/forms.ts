/** A form's submit handler that stays on the page and runs `work` (errors are the work's to show). */
export function onSubmit(work: () => unknown): (event: SubmitEvent) => void {
  return (event) => {
    event.preventDefault();
    void work();
  };
}
