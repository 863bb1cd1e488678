import { recorded } from './state.js';

export default {
  get vu() {
    return recorded.exec.vu;
  },
  get scenario() {
    return recorded.exec.scenario;
  },
};
