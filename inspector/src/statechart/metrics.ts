/** Box metrics shared by the layout (sizes given to ELK) and the renderer (where text goes), px. */
export const METRICS = {
  header: 26,
  line: 16,
  pad: 12,
  labelHeight: 16,
  initial: 10,
};
