// The tenant console (placeholder until its pages land): sign-in form only.
import { byId, replace } from '../shared/dom.js';

replace(byId('out'), 'The tenant console is not available in this build.');
